//! The store contract, run against a fresh PostgreSQL database per test.

use crate::PostgresStore;

/// The server tests use: `ROOMLOG_TEST_POSTGRES_URL`, default the machine's local PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("ROOMLOG_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database created for one test and dropped when the guard goes.
pub struct TestDatabase {
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop on a separate thread with its own runtime: the test's runtime is shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url()).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.ok()
            })
        })
        .join();
    }
}

async fn fresh() -> (PostgresStore, TestDatabase) {
    let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {} ({e}); the PostgreSQL suite needs it", admin_url())
    });
    let name = format!("roomlog_test_{}", roomlog_core::RoomSid::generate().as_str()[2..18].to_lowercase());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create test database");
    let url = match admin_url().rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("bad ROOMLOG_TEST_POSTGRES_URL"),
    };
    let store = PostgresStore::open(&url, 4).await.expect("open");
    store.migrate().await.expect("migrate");
    (store, TestDatabase { name })
}

roomlog_core::store_contract_tests!(fresh());
