//! Upgrades in place: a database the previous release (0.1.0, whose migrations ran on sqlx)
//! wrote, and a fresh one, opened, migrated and reopened by this store.

use std::path::Path;

use roomlog_core::account::LiveKitKey;
use roomlog_core::page::PageRequest;
use roomlog_core::usage::RoomUsage;
use roomlog_core::{
    AccountEvent, AccountSid, ApiKeySid, FoldSettings, IdentityFilter, Millis, RoomEvent, RoomFilter, Store,
};
use roomlog_core::{ParticipantSummary, RoomSummary};
use roomlog_store_sqlite::SqliteStore;
use sha2::{Digest, Sha384};

/// `roomlog accounts create`, `keys create` and `demo --rooms 3 --participants 2` of roomlog
/// 0.1.0, checkpointed into one file (journal_mode = DELETE).
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/roomlog-0.1.0.db");
const ACCOUNT: &str = "ACb4f307083a6d9fcc587340dbcfc5bc1d";
const AUTH_TOKEN: &str = "292b05dcf807386d582db7b3deea78bd";
const API_KEY: &str = "SKbf966b89b5b6e320cca91fdfcad0a8ba";
const ROOMS: [&str; 3] =
    ["RM00000000c5cbefe3821badfe79c3ac86", "RM00000001e6aec5d835f0c5110aa89bf7", "RM00000002b0544f65f5b09c3f1911b132"];

/// How many migrations the release that made the fixture had applied.
const RELEASED_0_1_0: usize = 4;

fn page() -> PageRequest {
    PageRequest { size: 50, page: 0, cursor: None, offset: 0, cutoff: None }
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A `_sqlx_migrations` row: version, checksum, success.
type Applied = (i64, Vec<u8>, bool);

/// `_sqlx_migrations`, and the token key, read directly.
fn bookkeeping(path: &Path) -> (Vec<Applied>, Vec<u8>) {
    let db = rusqlite::Connection::open(path).unwrap();
    let mut statement = db.prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version").unwrap();
    let applied = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = db.query_row("SELECT value FROM settings WHERE key = 'token_key'", [], |row| row.get(0)).unwrap();
    (applied, key)
}

/// What the sqlx migrator recorded for each file of `migrations/`: its version and SHA-384.
fn expected_migrations() -> Vec<Applied> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_str().unwrap();
            let version = name.split('_').next().unwrap().parse().unwrap();
            (version, Sha384::digest(std::fs::read(file).unwrap()).to_vec(), true)
        })
        .collect()
}

fn created(account: &AccountSid, room: &str) -> AccountEvent {
    let raw = format!(
        r#"{{"event":"room-created","room_sid":"{room}","timestamp":"2025-10-28T09:00:00Z","room_type":"group"}}"#
    );
    let event: RoomEvent = serde_json::from_str(&raw).unwrap();
    AccountEvent::new(account.clone(), None, event, "json", raw)
}

#[tokio::test]
async fn a_database_from_0_1_0_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roomlog.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    let (before, token_key) = bookkeeping(&path);
    let all = expected_migrations();
    assert_eq!(before, all[..RELEASED_0_1_0], "the fixture was migrated by sqlx with the files 0.1.0 shipped");

    let store = SqliteStore::open(&url(&path), 2).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.expect("migrating again changes nothing");

    let account: AccountSid = ACCOUNT.parse().unwrap();
    let found = store.account(&account).await.unwrap().expect("the account survives");
    assert!(found.token_matches(AUTH_TOKEN));
    assert_eq!(found.friendly_name, "fixture account");
    assert!(found.verify_callbacks);
    assert_eq!(store.accounts().await.unwrap(), vec![found]);
    let key: ApiKeySid = API_KEY.parse().unwrap();
    let key = store.api_key(&key).await.unwrap().expect("the API key survives");
    assert_eq!((key.account_sid, key.friendly_name.as_str()), (account.clone(), "fixture key"));
    assert_eq!(store.token_secret().await.unwrap(), token_key, "page tokens signed before still verify");

    let rows = store.list_rooms(&account, &RoomFilter::default(), &page()).await.unwrap();
    let mut sids: Vec<&str> = rows.iter().map(|row| row.sid.as_str()).collect();
    sids.sort();
    assert_eq!(sids, ROOMS);
    let room = ROOMS[0].parse().unwrap();
    assert_eq!(store.list_participants(&account, &room, &page()).await.unwrap().len(), 2);
    // Migration 0008 filled in the identity of every participant written before it.
    let judy = IdentityFilter { identity: "judy-1".into(), created_after: None, created_before: None };
    let found = store.list_identity_sessions(&account, &judy, &page()).await.unwrap();
    assert_eq!(found.iter().map(|row| row.sid.as_str()).collect::<Vec<_>>(), ["PAa4525e2e27d4e93fd3d2449b1bad6d13"]);

    // Migration 0009 filled in each room's usage as the store computes it from the summaries.
    let mut backfilled = store.room_usage(&account, 0, i64::MAX / 2).await.unwrap();
    let mut computed = Vec::new();
    for sid in ROOMS {
        let room = sid.parse().unwrap();
        let summary: RoomSummary =
            serde_json::from_str(&store.room(&account, &room).await.unwrap().unwrap().0).unwrap();
        let participants: Vec<ParticipantSummary> = store
            .list_participants(&account, &room, &page())
            .await
            .unwrap()
            .iter()
            .map(|row| serde_json::from_str(&row.json.0).unwrap())
            .collect();
        computed.push(RoomUsage::of(&summary, &participants));
    }
    let key = |u: &RoomUsage| format!("{u:?}");
    backfilled.sort_by_key(key);
    computed.sort_by_key(key);
    assert_eq!(backfilled, computed);
    assert!(computed.iter().all(|u| u.sessions == 2 && u.identities.len() == 2), "{computed:?}");

    let settings = FoldSettings::default();
    let new_room = "RM000000ffffffffffffffffffffffffff";
    let outcome = store.append(&[created(&account, new_room)], &settings, Millis::now()).await.unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (1, 0));
    let rows = store.list_rooms(&account, &RoomFilter::default(), &page()).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().any(|row| row.sid == new_room));

    let lk = LiveKitKey { api_key: "APIupgraded".into(), account_sid: account.clone(), api_secret: "s".into() };
    store.put_livekit_key(&lk, false).await.expect("the tables of later migrations exist");
    assert!(store.acquire_lease("import", "node", Millis::now(), 1000).await.unwrap());

    let (after, _) = bookkeeping(&path);
    assert_eq!(after[..RELEASED_0_1_0], before, "applied migrations are never rewritten");
    assert_eq!(after, all, "and the later ones are recorded as the sqlx migrator records them");
}

#[tokio::test]
async fn a_fresh_database_migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let store = SqliteStore::open(&url(&path), 1).await.unwrap();
    store.migrate().await.unwrap();
    let account = roomlog_core::account::Account::generate("fresh");
    store.insert_account(&account).await.unwrap();
    store
        .append(&[created(&account.sid, "RM00000000000000000000000000000001")], &FoldSettings::default(), Millis::now())
        .await
        .unwrap();
    store.close().await;
    drop(store);

    let (applied, _) = bookkeeping(&path);
    assert_eq!(applied, expected_migrations(), "recorded as the sqlx migrator recorded them");
    let reopened = SqliteStore::open(&format!("sqlite:{}", path.display()), 1).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.account(&account.sid).await.unwrap(), Some(account.clone()));
    let rows = reopened.list_rooms(&account.sid, &RoomFilter::default(), &page()).await.unwrap();
    assert_eq!(rows.len(), 1);
}
