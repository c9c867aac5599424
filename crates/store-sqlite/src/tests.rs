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

#[tokio::test]
async fn filtered_lists_walk_the_narrowest_index_without_sorting() {
    let (store, _dir) = fresh().await;
    let account: roomlog_core::AccountSid = "AC00000000000000000000000000000001".parse().unwrap();
    let request = roomlog_core::PageRequest { size: 50, page: 0, cursor: None, offset: 0, cutoff: None };
    for (query, index) in [
        (vec![("Codec", "VP9")], "rooms_vp9 "),
        (vec![("Codec", "VP9"), ("RoomType", "group")], "rooms_vp9_by_type"),
        (vec![("Codec", "H264"), ("RoomType", "group"), ("CreatedAfter", "2025-10-01")], "_by_type"),
        (vec![("RoomName", "standup"), ("RoomType", "go"), ("CreatedAfter", "2025-10-01")], "rooms_by_name"),
    ] {
        let (filter, _) = roomlog_core::query::parse_room_list(query.clone()).unwrap();
        let built = roomlog_store_sql::list_rooms(&account, &filter, &request);
        let plan = format!("EXPLAIN QUERY PLAN {}", built.sql);
        let rows = built
            .args
            .iter()
            .fold(sqlx::query_as::<_, (i64, i64, i64, String)>(&plan), |q, arg| match arg {
                roomlog_store_sql::Arg::Int(v) => q.bind(*v),
                roomlog_store_sql::Arg::Text(v) => q.bind(v.clone()),
            })
            .fetch_all(&store.reader)
            .await
            .unwrap();
        let details: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        assert!(details.iter().any(|d| d.contains(index)), "{query:?}: {details:?}");
        assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "{query:?}: no sort step: {details:?}");
    }
}
