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

/// A read-only connection of the store's own kind, for looking at the file directly.
fn look(dir: &tempfile::TempDir) -> rusqlite::Connection {
    crate::connection::open(&dir.path().join("roomlog.db"), crate::connection::Role::Reader).expect("a reader")
}

/// SQLite's plan for `sql`: the detail column of each step.
fn plan(connection: &rusqlite::Connection, sql: &str, args: &[roomlog_store_sql::Arg]) -> Vec<String> {
    let args = args.iter().map(|arg| match arg {
        roomlog_store_sql::Arg::Int(v) => rusqlite::types::Value::Integer(*v),
        roomlog_store_sql::Arg::Text(v) => rusqlite::types::Value::Text(v.clone()),
    });
    let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    statement.query_map(rusqlite::params_from_iter(args), |row| row.get(3)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn migrations_are_idempotent_and_the_file_is_in_wal_mode() {
    let (store, dir) = fresh().await;
    store.migrate().await.expect("second migrate");
    let mode: String = look(&dir).query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn the_list_query_walks_the_time_index_without_sorting() {
    let (_store, dir) = fresh().await;
    let details = plan(
        &look(&dir),
        "SELECT create_time, room_sid, summary FROM rooms WHERE account_sid = ?
         AND (create_time, room_sid) < (?, ?) ORDER BY create_time DESC, room_sid DESC LIMIT 51",
        &[
            roomlog_store_sql::Arg::Text("AC".into()),
            roomlog_store_sql::Arg::Int(0),
            roomlog_store_sql::Arg::Text("RM".into()),
        ],
    );
    assert!(details.iter().any(|d| d.contains("rooms_by_time")), "{details:?}");
    assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "no sort step: {details:?}");
}

#[tokio::test]
async fn filtered_lists_walk_the_narrowest_index_without_sorting() {
    let (_store, dir) = fresh().await;
    let connection = look(&dir);
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
        let details = plan(&connection, &built.sql, &built.args);
        assert!(details.iter().any(|d| d.contains(index)), "{query:?}: {details:?}");
        assert!(!details.iter().any(|d| d.contains("TEMP B-TREE")), "{query:?}: no sort step: {details:?}");
    }
}

#[tokio::test]
async fn events_stored_before_the_append_only_log_survive_its_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("roomlog.db");
    // The database as 0003 left it, with an event in the old `WITHOUT ROWID` table.
    let mut earlier = crate::connection::open(&path, crate::connection::Role::Writer).unwrap();
    crate::migrations::run(&mut earlier, &crate::migrations::MIGRATIONS[..3]).unwrap();
    let raw = r#"{"event":"room-created","room_sid":"RM00000000000000000000000000000001","timestamp":"2025-10-27T18:00:00Z"}"#;
    let event: roomlog_core::RoomEvent = serde_json::from_str(raw).unwrap();
    let account: roomlog_core::AccountSid = "AC00000000000000000000000000000001".parse().unwrap();
    let stored = roomlog_core::AccountEvent::new(account.clone(), None, event, "json", raw.to_owned());
    earlier
        .execute(
            "INSERT INTO events VALUES (?, ?, ?, 0, 'room-created', 'json', ?, ?, 0)",
            rusqlite::params![
                account.as_str(),
                stored.event_id,
                stored.event.room_sid.as_str(),
                serde_json::to_string(&stored.event).unwrap(),
                raw
            ],
        )
        .unwrap();
    drop(earlier);

    let store = SqliteStore::open(&format!("sqlite://{}", path.display()), 1).await.expect("open");
    store.migrate().await.expect("migrate to the append-only log");
    let kept: (String, String) =
        look(&dir).query_row("SELECT event_id, raw FROM events", [], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
    assert_eq!(kept, (stored.event_id.clone(), raw.to_owned()));
    let settings = roomlog_core::FoldSettings::default();
    let again = roomlog_core::Store::append(&store, &[stored], &settings, roomlog_core::Millis(0)).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 1), "its identity still makes a repeat a no-op");
}
