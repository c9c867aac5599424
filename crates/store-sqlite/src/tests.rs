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
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&store.sqlx_writer).await.unwrap();
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
    .fetch_all(&store.sqlx_reader)
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
            .fetch_all(&store.sqlx_reader)
            .await
            .unwrap();
        let details: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        assert!(details.iter().any(|d| d.contains(index)), "{query:?}: {details:?}");
        assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "{query:?}: no sort step: {details:?}");
    }
}

#[tokio::test]
async fn events_stored_before_the_append_only_log_survive_its_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("roomlog.db").display());
    // The database as 0003 left it, with an event in the old `WITHOUT ROWID` table.
    let earlier = dir.path().join("migrations");
    std::fs::create_dir(&earlier).unwrap();
    for name in ["0001_create_tables.sql", "0002_add_imports.sql", "0003_add_codec_indexes.sql"] {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(name);
        std::fs::copy(source, earlier.join(name)).unwrap();
    }
    let store = SqliteStore::open(&url, 1).await.expect("open");
    sqlx::migrate::Migrator::new(earlier.as_path()).await.unwrap().run(&store.sqlx_writer).await.unwrap();
    let raw = r#"{"event":"room-created","room_sid":"RM00000000000000000000000000000001","timestamp":"2025-10-27T18:00:00Z"}"#;
    let event: roomlog_core::RoomEvent = serde_json::from_str(raw).unwrap();
    let account: roomlog_core::AccountSid = "AC00000000000000000000000000000001".parse().unwrap();
    let stored = roomlog_core::AccountEvent::new(account.clone(), None, event, "json", raw.to_owned());
    sqlx::query("INSERT INTO events VALUES (?, ?, ?, 0, 'room-created', 'json', ?, ?, 0)")
        .bind(account.as_str())
        .bind(&stored.event_id)
        .bind(stored.event.room_sid.as_str())
        .bind(serde_json::to_string(&stored.event).unwrap())
        .bind(raw)
        .execute(&store.sqlx_writer)
        .await
        .unwrap();

    store.migrate().await.expect("migrate to the append-only log");
    let kept: (String, String) =
        sqlx::query_as("SELECT event_id, raw FROM events").fetch_one(&store.sqlx_reader).await.unwrap();
    assert_eq!(kept, (stored.event_id.clone(), raw.to_owned()));
    let settings = roomlog_core::FoldSettings::default();
    let again = roomlog_core::Store::append(&store, &[stored], &settings, roomlog_core::Millis(0)).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 1), "its identity still makes a repeat a no-op");
}
