//! The one storage interface every backend implements, in domain terms (docs/design.md, "Storage").

use async_trait::async_trait;

use crate::account::{Account, ApiKey, LiveKitKey};
use crate::event::AccountEvent;
use crate::fold::FoldSettings;
use crate::outbox::{Attempt, FailedMessage, Message, TargetKey, TargetState, WebhookEndpoint};
use crate::page::{PageRequest, Row};
use crate::query::{IdentityFilter, RoomFilter};
use crate::sid::{AccountSid, ApiKeySid, ParticipantSid, RoomSid};
use crate::summary::{ParticipantSummary, RoomSummary, StoredJson};
use crate::time::Millis;
use crate::usage::RoomUsage;

/// What can go wrong in storage, in terms the HTTP layer can map without knowing the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// Concurrent writers collided (a serialization failure or deadlock); the backend retries
    /// a few times before giving up with this.
    #[error("contention: {0}")]
    Contention(String),
    /// The database cannot be reached right now; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// The result of appending a batch: new events and repeats of stored ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    pub accepted: u64,
    pub duplicates: u64,
}

/// Counts of a rebuild, for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RebuildReport {
    pub rooms: u64,
    pub events: u64,
}

/// A stored event as its source sent it: for the dashboard's provenance of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub event_id: String,
    /// The normalised event's kind (`EventKind`'s spelling).
    pub kind: String,
    /// `json`, `callback`, `livekit`, …
    pub source: String,
    pub timestamp: Millis,
    pub raw: String,
}

/// The name of the scheduled import's lease and runs (`serve --import-from`).
pub const IMPORT_JOB: &str = "import";

/// One run of background work (the scheduled import), as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub name: String,
    /// The node that ran it.
    pub holder: String,
    /// The account it worked for, if one.
    pub account_sid: Option<AccountSid>,
    pub started: Millis,
    pub finished: Millis,
    pub ok: bool,
    /// Rooms it stored.
    pub rooms: i64,
    /// How it ended, in words.
    pub message: String,
}

/// A room copied from another Insights API (`roomlog import`): its summaries as served there.
/// It has no events here, so it is kept as is: `rebuild` and later events leave it alone.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRoom {
    pub room: RoomSummary,
    pub participants: Vec<ParticipantSummary>,
}

/// An importer's progress marker, saved in the same transaction as the rooms it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub key: String,
    pub value: String,
}

/// Counts of one import batch. A room already folded from events here is skipped, not replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub rooms: u64,
    pub participants: u64,
    pub skipped: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip to the database, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// A value that changes whenever a commit, by this process or any other, may have changed
    /// what reads return; two equal readings mean no commit happened between them. `None` when
    /// the backend cannot tell without a round trip (the default), which turns response
    /// caching off.
    fn change_marker(&self) -> Option<u64> {
        None
    }
    /// The key page tokens are signed with, created once per database.
    async fn token_secret(&self) -> Result<Vec<u8>, StoreError>;

    /// Fails with `Conflict` when the SID exists.
    async fn insert_account(&self, account: &Account) -> Result<(), StoreError>;
    /// Creates the account, or sets its auth token when it exists.
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError>;
    async fn account(&self, sid: &AccountSid) -> Result<Option<Account>, StoreError>;
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    async fn set_verify_callbacks(&self, sid: &AccountSid, verify: bool) -> Result<(), StoreError>;
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    async fn api_key(&self, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError>;
    /// Adds a LiveKit key; with `replace`, an existing key takes the new secret and account,
    /// else an existing key is a `Conflict`.
    async fn put_livekit_key(&self, key: &LiveKitKey, replace: bool) -> Result<(), StoreError>;
    async fn livekit_key(&self, api_key: &str) -> Result<Option<LiveKitKey>, StoreError>;
    async fn livekit_keys(&self) -> Result<Vec<LiveKitKey>, StoreError>;
    /// Whether there was such a key.
    async fn remove_livekit_key(&self, api_key: &str) -> Result<bool, StoreError>;

    /// Stores the events and folds the new ones into their rooms' summaries, all in one
    /// transaction: when this returns `Ok`, every event is durable. Repeats change nothing.
    async fn append(
        &self,
        events: &[AccountEvent],
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError>;

    /// Up to `request.fetch_limit()` rooms of the account in the request's walking order.
    async fn list_rooms(
        &self,
        account: &AccountSid,
        filter: &RoomFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError>;
    async fn room(&self, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError>;
    /// Up to `request.fetch_limit()` participants of the room, ordered by `join_time`, sid.
    async fn list_participants(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError>;
    /// One identity's sessions across the account's rooms, newest `join_time` first, then
    /// participant SID descending (docs/behaviour.md §7.2).
    async fn list_identity_sessions(
        &self,
        account: &AccountSid,
        filter: &IdentityFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError>;
    /// What each of the account's rooms created on days `first_day..=last_day` (day numbers,
    /// UTC) adds to the usage answer (docs/behaviour.md §7.1), in no particular order.
    async fn room_usage(
        &self,
        account: &AccountSid,
        first_day: i64,
        last_day: i64,
    ) -> Result<Vec<RoomUsage>, StoreError>;
    async fn participant(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        participant: &ParticipantSid,
    ) -> Result<Option<StoredJson>, StoreError>;
    /// Up to `limit` of the room's stored events, oldest first, as their sources sent them.
    async fn room_events(&self, account: &AccountSid, room: &RoomSid, limit: u32) -> Result<Vec<RawEvent>, StoreError>;

    /// Re-summarises rooms whose summaries change with time alone (settle window, room
    /// timeout) and are due at `now`; returns how many changed.
    async fn revisit_due(&self, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError>;
    /// Retention: deletes every room created before `cutoff`, with its participants and raw
    /// events, in one transaction; returns how many rooms went.
    async fn purge_before(&self, cutoff: Millis) -> Result<u64, StoreError>;
    /// Recomputes every summary from the stored events.
    async fn rebuild(&self, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError>;

    /// Stores imported rooms under `account` (their `account_sid` becomes it), replacing earlier
    /// imports of the same rooms and their participants, and saves `checkpoint`, all in one
    /// transaction.
    async fn import_rooms(
        &self,
        account: &AccountSid,
        rooms: &[ImportedRoom],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<ImportOutcome, StoreError>;
    /// The value last saved under an importer's checkpoint key.
    async fn import_checkpoint(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Takes the named lease until `now + ttl_ms` if it is free, expired, or already held by
    /// `holder` (which renews it); whether `holder` holds it now.
    async fn acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError>;
    /// Gives the lease up, if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
    async fn record_job_run(&self, run: &JobRun) -> Result<(), StoreError>;
    /// The latest `limit` runs of the named work, newest first.
    async fn job_runs(&self, name: &str, limit: u32) -> Result<Vec<JobRun>, StoreError>;

    /// Replaces the account's forward targets (docs/behaviour.md §6.1); empty clears them.
    async fn set_forward_targets(&self, account: &AccountSid, urls: &[String]) -> Result<(), StoreError>;
    async fn forward_targets(&self, account: &AccountSid) -> Result<Vec<String>, StoreError>;
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    /// Every endpoint, or the account's.
    async fn webhook_endpoints(&self, account: Option<&AccountSid>) -> Result<Vec<WebhookEndpoint>, StoreError>;
    async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// Whether there was such an endpoint.
    async fn remove_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError>;
    /// Up to `limit` pending messages due at `now` that no one holds, in queue order and at
    /// most `per_target` of each target, none of the targets in `skip` (those whose queues on
    /// this node are full), leased to `holder` for `lease_ms`.
    async fn claim_messages(
        &self,
        holder: &str,
        now: Millis,
        lease_ms: i64,
        per_target: u32,
        limit: u32,
        skip: &[TargetKey],
    ) -> Result<Vec<Message>, StoreError>;
    /// Records, in one transaction, attempts of messages `holder` claimed: each delivered
    /// (removed), retried later, or failed; and each target's latest outcome. A message whose
    /// lease `holder` no longer has is left as it is.
    async fn finish_messages(
        &self,
        holder: &str,
        finished: &[(Message, Attempt)],
        now: Millis,
    ) -> Result<(), StoreError>;
    /// Gives a claimed message back untried.
    async fn release_message(&self, id: &str, holder: &str) -> Result<(), StoreError>;
    async fn failed_messages(&self) -> Result<Vec<FailedMessage>, StoreError>;
    /// Queues failed messages again (one, or all), keeping their ids; how many.
    async fn retry_failed(&self, id: Option<&str>, now: Millis) -> Result<u64, StoreError>;
    /// Pending and failed counts and the latest error of each of the account's targets.
    async fn target_states(&self, account: &AccountSid) -> Result<Vec<TargetState>, StoreError>;
}
