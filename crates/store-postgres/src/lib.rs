//! The scale-out store: any number of stateless roomlog nodes on one PostgreSQL (or a
//! PostgreSQL-compatible distributed database: the SQL avoids extensions and advisory locks).
//!
//! Concurrency: every write transaction first inserts the events it carries (in one global
//! order), then locks each affected room's row with `SELECT … FOR UPDATE` (inserting a
//! placeholder row first for a new room, so writers of a room that does not exist yet also
//! queue on one row), in one global order. Two nodes folding the same room therefore take turns,
//! and each folds on top of the other's committed state; rooms never deadlock because locks are
//! taken in order. Serialization failures and deadlocks that a distributed database may still
//! report (SQLSTATE 40001, 40P01) are retried with a fresh transaction. Cost: writers of one room
//! are serialised (one round trip for the lock per room per batch); writers of different rooms
//! do not wait for each other.
#![forbid(unsafe_code)]

mod accounts;
mod import;
mod jobs;
mod outbox;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod writes;

use std::time::Duration;

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
use roomlog_store_sql::usage::{room_usage, statements as usage_sql};
use roomlog_store_sql::{numbered, statements, Arg, Query};
use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row as _};

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

/// Maps the driver's errors once: constraint violations are conflicts, serialization failures
/// and deadlocks are contention, a lost or unreachable server is unavailable.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")) => {
            StoreError::Contention(db.message().to_owned())
        }
        // Connection exceptions (class 08), shutdowns (57P01-57P03), and what refusing a new
        // connection looks like: too many connections, a database closed to connections or
        // missing, failed authentication.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08")
                    || c.starts_with("28")
                    || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "55000" | "3D000")
            }) =>
        {
            StoreError::Unavailable(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Other(Box::new(error)),
    }
}

pub(crate) fn bind(query: &Query) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    query.args.iter().fold(sqlx::query(&query.sql), |q, arg| match arg {
        Arg::Int(value) => q.bind(*value),
        Arg::Text(value) => q.bind(value.as_str()),
    })
}

pub(crate) fn pg(sql: &str) -> Query {
    Query { sql: numbered(sql), args: Vec::new() }
}

impl PostgresStore {
    /// Connects lazily: the pool opens connections on demand, so a node starts (and reports
    /// not-ready) while the database is down, and recovers by itself when it returns.
    pub async fn open(url: &str, max_connections: u32) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(true)
            .connect_lazy(url)
            .map_err(store_error)?;
        Ok(PostgresStore { pool })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        // No advisory lock (CockroachDB and YugabyteDB lack them): with several nodes, run
        // `roomlog migrate` once before starting them (README "Running on PostgreSQL").
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_locking(false);
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => store_error(inner),
            other => StoreError::Other(Box::new(other)),
        })?;
        let mut secret = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secret);
        sqlx::query("INSERT INTO settings (key, value) VALUES ('token_key', $1) ON CONFLICT (key) DO NOTHING")
            .bind(secret)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn rows(&self, query: Query) -> Result<Vec<Row>, StoreError> {
        let query = Query { sql: numbered(&query.sql), args: query.args };
        let rows = bind(&query).fetch_all(&self.pool).await.map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|row| Row { time_secs: row.get(0), sid: row.get(1), json: StoredJson(row.get(2)) })
            .collect())
    }

    async fn summary(&self, sql: &str, keys: &[&str]) -> Result<Option<StoredJson>, StoreError> {
        let mut query = pg(sql);
        query.args = keys.iter().map(|k| Arg::Text((*k).to_owned())).collect();
        let row = bind(&query).fetch_optional(&self.pool).await.map_err(store_error)?;
        Ok(row.map(|r| StoredJson(r.get(0))))
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    async fn token_secret(&self) -> Result<Vec<u8>, StoreError> {
        sqlx::query_scalar(statements::TOKEN_SECRET)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)
    }

    async fn insert_account(&self, account: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.pool, account, false).await
    }
    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        accounts::insert(&self.pool, account, true).await
    }
    async fn account(&self, sid: &AccountSid) -> Result<Option<Account>, StoreError> {
        accounts::find(&self.pool, Some(sid)).await.map(|mut found| found.pop())
    }
    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        accounts::find(&self.pool, None).await
    }
    async fn set_verify_callbacks(&self, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
        accounts::set_verify_callbacks(&self.pool, sid, verify).await
    }
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        accounts::insert_key(&self.pool, key).await
    }
    async fn api_key(&self, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
        accounts::find_key(&self.pool, sid).await
    }
    async fn put_livekit_key(&self, key: &LiveKitKey, replace: bool) -> Result<(), StoreError> {
        accounts::put_livekit_key(&self.pool, key, replace).await
    }
    async fn livekit_key(&self, api_key: &str) -> Result<Option<LiveKitKey>, StoreError> {
        accounts::find_livekit_keys(&self.pool, Some(api_key)).await.map(|mut found| found.pop())
    }
    async fn livekit_keys(&self) -> Result<Vec<LiveKitKey>, StoreError> {
        accounts::find_livekit_keys(&self.pool, None).await
    }
    async fn remove_livekit_key(&self, api_key: &str) -> Result<bool, StoreError> {
        accounts::remove_livekit_key(&self.pool, api_key).await
    }

    async fn append(
        &self,
        events: &[AccountEvent],
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError> {
        writes::append(&self.pool, events, settings, now).await
    }

    async fn list_rooms(
        &self,
        account: &AccountSid,
        filter: &RoomFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_rooms(account, filter, request)).await
    }
    async fn room(&self, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError> {
        self.summary(statements::ROOM, &[account.as_str(), room.as_str()]).await
    }
    async fn list_participants(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_participants(account, room, request)).await
    }
    async fn room_usage(
        &self,
        account: &AccountSid,
        first_day: i64,
        last_day: i64,
    ) -> Result<Vec<RoomUsage>, StoreError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let rows = sqlx::query(SQL.get_or_init(|| numbered(usage_sql::ROOM_USAGE_IN_DAYS)))
            .bind(account.as_str())
            .bind(first_day)
            .bind(last_day)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let mut counts = [0i64; 7];
                for (i, count) in counts.iter_mut().enumerate() {
                    *count = row.try_get(2 + i).map_err(store_error)?;
                }
                let day = row.try_get(0).map_err(store_error)?;
                let identities: String = row.try_get(9).map_err(store_error)?;
                room_usage(day, row.try_get(1).map_err(store_error)?, counts, &identities)
            })
            .collect()
    }
    async fn list_identity_sessions(
        &self,
        account: &AccountSid,
        filter: &IdentityFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_identity_sessions(account, filter, request)).await
    }
    async fn participant(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        participant: &ParticipantSid,
    ) -> Result<Option<StoredJson>, StoreError> {
        self.summary(statements::PARTICIPANT, &[account.as_str(), room.as_str(), participant.as_str()]).await
    }
    async fn room_events(&self, account: &AccountSid, room: &RoomSid, limit: u32) -> Result<Vec<RawEvent>, StoreError> {
        accounts::room_events(&self.pool, account, room, limit).await
    }

    async fn revisit_due(&self, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
        writes::revisit_due(&self.pool, settings, now).await
    }
    async fn purge_before(&self, cutoff: Millis) -> Result<u64, StoreError> {
        writes::purge_before(&self.pool, cutoff).await
    }
    async fn rebuild(&self, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
        writes::rebuild(&self.pool, settings, now).await
    }

    async fn import_rooms(
        &self,
        account: &AccountSid,
        rooms: &[ImportedRoom],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<ImportOutcome, StoreError> {
        import::import_rooms(&self.pool, account, rooms, checkpoint).await
    }
    async fn import_checkpoint(&self, key: &str) -> Result<Option<String>, StoreError> {
        import::checkpoint(&self.pool, key).await
    }

    async fn acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError> {
        jobs::acquire_lease(&self.pool, name, holder, now, ttl_ms).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        jobs::release_lease(&self.pool, name, holder).await
    }
    async fn record_job_run(&self, run: &JobRun) -> Result<(), StoreError> {
        jobs::record_job_run(&self.pool, run).await
    }
    async fn job_runs(&self, name: &str, limit: u32) -> Result<Vec<JobRun>, StoreError> {
        jobs::job_runs(&self.pool, name, limit).await
    }

    async fn set_forward_targets(&self, account: &AccountSid, urls: &[String]) -> Result<(), StoreError> {
        outbox::set_forward_targets(&self.pool, account, urls).await
    }
    async fn forward_targets(&self, account: &AccountSid) -> Result<Vec<String>, StoreError> {
        outbox::forward_targets(&self.pool, account).await
    }
    async fn insert_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        outbox::insert_endpoint(&self.pool, endpoint).await
    }
    async fn webhook_endpoints(&self, account: Option<&AccountSid>) -> Result<Vec<WebhookEndpoint>, StoreError> {
        outbox::endpoints(&self.pool, account, None).await
    }
    async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        outbox::endpoints(&self.pool, None, Some(id)).await.map(|mut found| found.pop())
    }
    async fn remove_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        outbox::remove_endpoint(&self.pool, id).await
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
        outbox::claim(&self.pool, holder, now, lease_ms, per_target, limit, skip).await
    }
    async fn finish_messages(
        &self,
        holder: &str,
        finished: &[(Message, Attempt)],
        now: Millis,
    ) -> Result<(), StoreError> {
        outbox::finish(&self.pool, holder, finished, now).await
    }
    async fn release_message(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        outbox::release(&self.pool, id, holder).await
    }
    async fn failed_messages(&self) -> Result<Vec<FailedMessage>, StoreError> {
        outbox::failed(&self.pool).await
    }
    async fn retry_failed(&self, id: Option<&str>, now: Millis) -> Result<u64, StoreError> {
        outbox::retry_failed(&self.pool, id, now).await
    }
    async fn target_states(&self, account: &AccountSid) -> Result<Vec<TargetState>, StoreError> {
        outbox::target_states(&self.pool, account).await
    }
}

#[cfg(test)]
mod tests;
