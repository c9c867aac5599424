//! The embedded default store: one SQLite file in WAL mode, migrations embedded in the binary.
//! One writer thread serialises the data writes (SQLite allows one writer anyway), and appends
//! that arrive together share one commit (`writer`); the list and fetch queries run in parallel
//! on read-only connections (`readers`). Both use rusqlite with statements prepared once (see
//! `connection`); migrations, accounts and API keys, rare and not on any hot path, go through
//! sqlx pools.
#![forbid(unsafe_code)]

mod accounts;
pub mod baseline;
mod connection;
mod marker;
mod readers;
mod transaction;
mod writer;
mod writes;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use roomlog_core::account::{Account, ApiKey};
use roomlog_core::page::{PageRequest, Row};
use roomlog_core::{
    AccountEvent, AccountSid, ApiKeySid, AppendOutcome, Checkpoint, FoldSettings, ImportOutcome, ImportedRoom, Millis,
    ParticipantSid, RebuildReport, RoomFilter, RoomSid, Store, StoreError, StoredJson,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

#[derive(Clone)]
pub struct SqliteStore {
    sqlx_writer: SqlitePool,
    sqlx_reader: SqlitePool,
    writer: writer::Writer,
    readers: std::sync::Arc<readers::Readers>,
    marker: std::sync::Arc<marker::ChangeMarker>,
}

/// Maps the driver's errors once (STYLE habit 4): constraint violations are conflicts, a busy
/// or unreachable file is unavailable, everything else is opaque.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Other(Box::new(error)),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite://` URL.
    pub async fn open(url: &str, readers: u32) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(Box::new(e)))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the event is acknowledged (BEHAVIOUR §4.3).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16000")
            // Checkpoint every ~40 MB of WAL rather than ~4 MB: pages that many commits touch
            // (index tails, busy rooms) are copied into the database once, not after each.
            .pragma("wal_autocheckpoint", "10000");
        let marker = std::sync::Arc::new(marker::ChangeMarker::new(options.get_filename()));
        let path = options.get_filename().to_owned();
        let sqlx_writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(store_error)?;
        let sqlx_reader = SqlitePoolOptions::new()
            .max_connections(2)
            // Readers lean on the OS page cache rather than on a large cache each (RSS).
            .connect_with(options.read_only(true).pragma("cache_size", "-2000"))
            .await
            .map_err(store_error)?;
        let writer = writer::Writer::start(connection::open(&path, false)?, &path)?;
        let readers = std::sync::Arc::new(readers::Readers::new(path, readers));
        Ok(SqliteStore { sqlx_writer, sqlx_reader, writer, readers, marker })
    }

    /// Applies the embedded migrations and creates the page-token key on first use.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.sqlx_writer).await.map_err(|e| StoreError::Other(Box::new(e)))?;
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('token_key', randomblob(32))")
            .execute(&self.sqlx_writer)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.sqlx_reader.close().await;
        self.sqlx_writer.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.readers.value::<i64>("SELECT 1", &[]).await.map(drop)
    }

    fn change_marker(&self) -> Option<u64> {
        self.marker.read()
    }

    async fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        self.readers.value(roomlog_store_sql::statements::TOKEN_SECRET, &[]).await?.ok_or(StoreError::NotFound)
    }

    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.sqlx_writer, account, false).await
    }
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.sqlx_writer, account, true).await
    }
    async fn account(&self, sid: &AccountSid) -> Result<Option<Account>, StoreError> {
        accounts::find(&self.sqlx_reader, Some(sid)).await.map(|mut found| found.pop())
    }
    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        accounts::find(&self.sqlx_reader, None).await
    }
    async fn set_verify_callbacks(&self, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
        accounts::set_verify_callbacks(&self.sqlx_writer, sid, verify).await
    }
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        accounts::insert_key(&self.sqlx_writer, key).await
    }
    async fn api_key(&self, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
        accounts::find_key(&self.sqlx_reader, sid).await
    }

    async fn append(
        &self,
        events: &[AccountEvent],
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError> {
        self.writer.append(events, settings, now).await
    }

    async fn list_rooms(
        &self,
        account: &AccountSid,
        filter: &RoomFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.readers.list_rooms(account, filter, request).await
    }
    async fn room(&self, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError> {
        self.readers.room(account, room).await
    }
    async fn list_participants(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.readers.list_participants(account, room, request).await
    }
    async fn participant(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        participant: &ParticipantSid,
    ) -> Result<Option<StoredJson>, StoreError> {
        self.readers.participant(account, room, participant).await
    }

    async fn revisit_due(&self, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
        writes::revisit_due(&self.writer, settings, now).await
    }
    async fn purge_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        writes::purge_before(&self.writer, cutoff).await
    }
    async fn rebuild(&self, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
        writes::rebuild(&self.writer, settings, now).await
    }

    async fn import_rooms(
        &self,
        account: &AccountSid,
        rooms: &[ImportedRoom],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<ImportOutcome, StoreError> {
        writes::import_rooms(&self.writer, account, rooms, checkpoint).await
    }
    async fn import_checkpoint(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.readers.value(roomlog_store_sql::import::statements::CHECKPOINT, &[key]).await
    }
}

#[cfg(test)]
mod tests;
