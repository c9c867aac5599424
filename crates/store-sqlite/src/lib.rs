//! The embedded default store: one SQLite file in WAL mode, migrations embedded in the binary
//! (`migrations`), one driver (rusqlite). One writer thread serialises every write (SQLite
//! allows one writer anyway), and appends that arrive together share one commit (`writer`); the
//! list and fetch queries run in parallel on read-only connections (`readers`). Every connection
//! and its settings come from `connection`.
#![forbid(unsafe_code)]

mod accounts;
#[cfg(any(test, feature = "testing"))]
pub mod baseline;
mod connection;
mod jobs;
mod marker;
mod migrations;
mod outbox;
mod readers;
mod transaction;
mod writer;
mod writes;

use std::sync::Arc;

use async_trait::async_trait;
use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::outbox::{Attempt, FailedMessage, Message, TargetKey, TargetState, WebhookEndpoint};
use roomlog_core::page::{PageRequest, Row};
use roomlog_core::store::RawEvent;
use roomlog_core::usage::RoomUsage;
use roomlog_core::JobRun;
use roomlog_core::{
    AccountEvent, AccountSid, ApiKeySid, AppendOutcome, Checkpoint, FoldSettings, IdentityFilter, ImportOutcome,
    ImportedRoom, Millis, ParticipantSid, RebuildReport, RoomFilter, RoomSid, Store, StoreError, StoredJson,
};

pub use crate::connection::path_of as database_path;
use crate::connection::Role;

#[derive(Clone)]
pub struct SqliteStore {
    writer: writer::Writer,
    readers: Arc<readers::Readers>,
    marker: Arc<marker::ChangeMarker>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite://PATH` or `sqlite:PATH` URL,
    /// with up to `readers` read-only connections beside the writer's.
    pub async fn open(url: &str, readers: u32) -> Result<SqliteStore, StoreError> {
        let path = connection::path_of(url)?;
        let writer = writer::Writer::start(connection::open(&path, Role::Writer)?, &path)?;
        let marker = Arc::new(marker::ChangeMarker::new(&path));
        let readers = Arc::new(readers::Readers::new(path, readers));
        Ok(SqliteStore { writer, readers, marker })
    }

    /// Applies the embedded migrations and creates the page-token key on first use.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.with_connection(|connection| migrations::run(connection, migrations::MIGRATIONS)).await
    }

    /// Waits for the writes queued before it to reach the disk, then closes the idle reader
    /// connections. The writer's connection closes when the last handle to the store is dropped.
    pub async fn close(&self) {
        let _ = self.writer.with_connection(|_| Ok(())).await;
        self.readers.close_idle();
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
        accounts::insert(&self.writer, account, false).await
    }
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.writer, account, true).await
    }
    async fn account(&self, sid: &AccountSid) -> Result<Option<Account>, StoreError> {
        accounts::find(&self.readers, Some(sid)).await.map(|mut found| found.pop())
    }
    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        accounts::find(&self.readers, None).await
    }
    async fn set_verify_callbacks(&self, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
        accounts::set_verify_callbacks(&self.writer, sid, verify).await
    }
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        accounts::insert_key(&self.writer, key).await
    }
    async fn api_key(&self, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
        accounts::find_key(&self.readers, sid).await
    }
    async fn put_livekit_key(&self, key: &LiveKitKey, replace: bool) -> Result<(), StoreError> {
        accounts::put_livekit_key(&self.writer, key, replace).await
    }
    async fn livekit_key(&self, api_key: &str) -> Result<Option<LiveKitKey>, StoreError> {
        accounts::find_livekit_keys(&self.readers, Some(api_key)).await.map(|mut found| found.pop())
    }
    async fn livekit_keys(&self) -> Result<Vec<LiveKitKey>, StoreError> {
        accounts::find_livekit_keys(&self.readers, None).await
    }
    async fn remove_livekit_key(&self, api_key: &str) -> Result<bool, StoreError> {
        accounts::remove_livekit_key(&self.writer, api_key).await
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
    async fn room_usage(
        &self,
        account: &AccountSid,
        first_day: i64,
        last_day: i64,
    ) -> Result<Vec<RoomUsage>, StoreError> {
        self.readers.room_usage(account, first_day, last_day).await
    }
    async fn list_identity_sessions(
        &self,
        account: &AccountSid,
        filter: &IdentityFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.readers.list_identity_sessions(account, filter, request).await
    }
    async fn participant(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        participant: &ParticipantSid,
    ) -> Result<Option<StoredJson>, StoreError> {
        self.readers.participant(account, room, participant).await
    }
    async fn room_events(&self, account: &AccountSid, room: &RoomSid, limit: u32) -> Result<Vec<RawEvent>, StoreError> {
        accounts::room_events(&self.readers, account, room, limit).await
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

    async fn acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError> {
        jobs::acquire_lease(&self.writer, name, holder, now, ttl_ms).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        jobs::release_lease(&self.writer, name, holder).await
    }
    async fn record_job_run(&self, run: &JobRun) -> Result<(), StoreError> {
        jobs::record_job_run(&self.writer, run).await
    }
    async fn job_runs(&self, name: &str, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        jobs::job_runs(&self.readers, name, limit).await
    }

    async fn set_forward_targets(&self, account: &AccountSid, urls: &[String]) -> Result<(), StoreError> {
        outbox::set_forward_targets(&self.writer, account, urls).await
    }
    async fn forward_targets(&self, account: &AccountSid) -> Result<Vec<String>, StoreError> {
        outbox::forward_targets(&self.readers, account).await
    }
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        outbox::insert_endpoint(&self.writer, endpoint).await
    }
    async fn webhook_endpoints(&self, account: Option<&AccountSid>) -> Result<Vec<WebhookEndpoint>, StoreError> {
        outbox::endpoints(&self.readers, account, None).await
    }
    async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        outbox::endpoints(&self.readers, None, Some(id)).await.map(|mut found| found.pop())
    }
    async fn remove_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        outbox::remove_endpoint(&self.writer, id).await
    }
    async fn claim_messages(
        &self,
        holder: &str,
        now: Millis,
        lease_ms: i64,
        per_target: u32,
        limit: u32,
        skip: &[TargetKey],
    ) -> Result<Vec<Message>, StoreError> {
        outbox::claim(&self.writer, holder, now, lease_ms, per_target, limit, skip).await
    }
    async fn finish_messages(
        &self,
        holder: &str,
        finished: &[(Message, Attempt)],
        now: Millis,
    ) -> Result<(), StoreError> {
        outbox::finish(&self.writer, holder, finished, now).await
    }
    async fn release_message(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        outbox::release(&self.writer, id, holder).await
    }
    async fn failed_messages(&self) -> Result<Vec<FailedMessage>, StoreError> {
        outbox::failed(&self.readers).await
    }
    async fn retry_failed(&self, id: Option<&str>, now: Millis) -> Result<u64, StoreError> {
        outbox::retry_failed(&self.writer, id, now).await
    }
    async fn target_states(&self, account: &AccountSid) -> Result<Vec<TargetState>, StoreError> {
        outbox::target_states(&self.readers, account).await
    }
}

#[cfg(test)]
mod tests;
