//! The store contract, run against a fresh PostgreSQL database per test.

use crate::testing::TestDatabase;
use crate::PostgresStore;

async fn fresh() -> (PostgresStore, TestDatabase) {
    let database = TestDatabase::create().await;
    let store = PostgresStore::open(&database.url, 4).await.expect("open");
    store.migrate().await.expect("migrate");
    (store, database)
}

roomlog_core::store_contract_tests!(fresh());

/// Not a store case: without PostgreSQL a test binary stops within its first seconds with one
/// line naming the URL and what to do (this runs one contract case in a child process of this
/// same binary, pointed at a port where nothing listens).
#[test]
fn without_postgresql_the_tests_stop_at_once_saying_what_to_start() {
    let started = std::time::Instant::now();
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["tests::accounts_and_keys_round_trip", "--exact", "--test-threads=1"])
        .env("ROOMLOG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:1/test")
        .output()
        .expect("the test binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("FATAL: PostgreSQL is not reachable at postgres://postgres@127.0.0.1:1/test")
                && line.contains("ROOMLOG_TEST_POSTGRES_URL")),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
}
