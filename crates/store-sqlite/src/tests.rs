//! The store contract, run against a fresh SQLite file per test.

use crate::SqliteStore;

async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("roomlog.db").display());
    let store = SqliteStore::open(&url, 2).await.expect("open");
    store.migrate().await.expect("migrate");
    (store, dir)
}

roomlog_core::store_contract_tests!(fresh());

#[tokio::test]
async fn migrations_are_idempotent_and_the_file_is_in_wal_mode() {
    let (store, _dir) = fresh().await;
    store.migrate().await.expect("second migrate");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&store.writer).await.unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn the_list_query_walks_the_time_index_without_sorting() {
    let (store, _dir) = fresh().await;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT create_time, room_sid, summary FROM rooms WHERE account_sid = ?
         AND (create_time, room_sid) < (?, ?) ORDER BY create_time DESC, room_sid DESC LIMIT 51",
    )
    .bind("AC")
    .bind(0)
    .bind("RM")
    .fetch_all(&store.reader)
    .await
    .unwrap();
    let details: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert!(details.iter().any(|d| d.contains("rooms_by_time")), "{details:?}");
    assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "no sort step: {details:?}");
}
