//! PostgreSQL's side of the shared write algorithms: row locks per room, retried on contention.

use std::future::Future;

use roomlog_core::fold::update::RoomUpdate;
use roomlog_core::outbox::NewMessage;
use roomlog_core::usage::RoomUsage;
use roomlog_core::{AccountEvent, AccountSid, AppendOutcome, FoldSettings, Millis, RebuildReport, RoomSid, StoreError};
use roomlog_store_sql::outbox::statements as outbox_sql;
use roomlog_store_sql::usage::{statements as usage_sql, UsageRow};
use roomlog_store_sql::{numbered, statements, Destinations, DueRoom, WriteTx};
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::store_error;

/// The shared statements, renumbered for PostgreSQL once.
struct Statements {
    insert_event: String,
    placeholder_room: String,
    lock_room: String,
    upsert_room: String,
    upsert_participant: String,
    delete_participants: String,
    due_rooms: String,
    room_events: String,
}

fn statements() -> &'static Statements {
    static STATEMENTS: std::sync::OnceLock<Statements> = std::sync::OnceLock::new();
    STATEMENTS.get_or_init(|| Statements {
        insert_event: numbered(statements::INSERT_EVENT),
        placeholder_room: numbered(
            "INSERT INTO rooms (account_sid, room_sid, create_time, codecs, summary) VALUES (?, ?, 0, 0, '')
             ON CONFLICT (account_sid, room_sid) DO NOTHING",
        ),
        lock_room: numbered(&format!("{} FOR UPDATE", statements::ROOM_STATE)),
        upsert_room: numbered(statements::UPSERT_ROOM),
        upsert_participant: numbered(statements::UPSERT_PARTICIPANT),
        delete_participants: numbered(statements::DELETE_PARTICIPANTS),
        due_rooms: numbered(statements::DUE_ROOMS),
        room_events: numbered(statements::ROOM_EVENTS),
    })
}

pub(crate) struct PgTx(pub(crate) Transaction<'static, Postgres>);

fn parse<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Other(Box::new(e)))
}

impl PgTx {
    /// Replaces what the room adds to the usage answer (docs/behaviour.md §7.1).
    pub(crate) async fn upsert_usage(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        usage: &RoomUsage,
    ) -> Result<(), StoreError> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let row = UsageRow::of(usage);
        let mut query = sqlx::query(SQL.get_or_init(|| numbered(usage_sql::UPSERT_ROOM_USAGE)))
            .bind(account.as_str())
            .bind(room.as_str())
            .bind(row.day)
            .bind(row.room_type);
        for count in row.counts {
            query = query.bind(count);
        }
        query.bind(row.identities).execute(&mut *self.0).await.map_err(store_error)?;
        Ok(())
    }
}

impl WriteTx for PgTx {
    async fn insert_event(&mut self, event: &AccountEvent, body: &str, received: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(&statements().insert_event)
            .bind(event.account_sid.as_str())
            .bind(&event.event_id)
            .bind(event.event.room_sid.as_str())
            .bind(event.event.timestamp.0)
            .bind(event.event.event.as_str())
            .bind(event.source)
            .bind(body)
            .bind(&event.raw)
            .bind(received.0)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn lock_room_state(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Option<String>, StoreError> {
        sqlx::query(&statements().placeholder_room)
            .bind(account.as_str())
            .bind(room.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        let state: Option<Option<String>> = sqlx::query_scalar(&statements().lock_room)
            .bind(account.as_str())
            .bind(room.as_str())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(state.flatten())
    }

    async fn write_room(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        update: &RoomUpdate,
        clear: bool,
    ) -> Result<(), StoreError> {
        let s = statements();
        if clear {
            sqlx::query(&s.delete_participants)
                .bind(account.as_str())
                .bind(room.as_str())
                .execute(&mut *self.0)
                .await
                .map_err(store_error)?;
        }
        let row = &update.room;
        sqlx::query(&s.upsert_room)
            .bind(account.as_str())
            .bind(room.as_str())
            .bind(row.create_time_secs)
            .bind(row.room_name.as_deref())
            .bind(row.room_type)
            .bind(row.codecs)
            .bind(row.revisit_at.map(|m| m.0))
            .bind(&update.state_json)
            .bind(&row.json.0)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        for participant in &update.participants {
            sqlx::query(&s.upsert_participant)
                .bind(account.as_str())
                .bind(room.as_str())
                .bind(&participant.participant_sid)
                .bind(participant.join_time_secs)
                .bind(&participant.identity)
                .bind(&participant.json.0)
                .execute(&mut *self.0)
                .await
                .map_err(store_error)?;
        }
        self.upsert_usage(account, room, &update.usage).await
    }

    async fn due_rooms(&mut self, now: Millis, limit: i64) -> Result<Vec<DueRoom>, StoreError> {
        let rows = sqlx::query(&statements().due_rooms)
            .bind(now.0)
            .bind(limit)
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(DueRoom {
                    account: parse(r.get(0))?,
                    room: parse(r.get(1))?,
                    state: r.get::<Option<String>, _>(2).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn room_events(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as(&statements().room_events)
            .bind(account.as_str())
            .bind(room.as_str())
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)
    }

    async fn destinations(&mut self, account: &AccountSid) -> Result<Destinations, StoreError> {
        let forward_targets: Vec<(String,)> = sqlx::query_as(&numbered(outbox_sql::FORWARD_TARGETS))
            .bind(account.as_str())
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)?;
        let endpoints: Vec<(String, String, String, String)> = sqlx::query_as(&numbered(outbox_sql::ACCOUNT_ENDPOINTS))
            .bind(account.as_str())
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(Destinations {
            forward_targets: forward_targets.into_iter().map(|(url,)| url).collect(),
            endpoints: endpoints.into_iter().map(|(id, _, url, _)| (id, url)).collect(),
        })
    }

    async fn enqueue(&mut self, messages: &[NewMessage], now: Millis) -> Result<(), StoreError> {
        let expires = roomlog_store_sql::outbox::expires(now);
        let sql = numbered(outbox_sql::ENQUEUE);
        for m in messages {
            sqlx::query(&sql)
                .bind(&m.id)
                .bind(m.account_sid.as_str())
                .bind(m.kind.as_str())
                .bind(&m.target)
                .bind(&m.endpoint_id)
                .bind(m.room_sid.as_str())
                .bind(&m.body)
                .bind(&m.idempotency_token)
                .bind(now.0)
                .bind(expires.0)
                .bind(now.0)
                .execute(&mut *self.0)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }
}

const ATTEMPTS: u32 = 5;

/// Runs `work` in a fresh transaction, committing on success, retrying on contention.
pub(crate) async fn in_transaction<T, F, Fut>(pool: &PgPool, mut work: F) -> Result<T, StoreError>
where
    F: FnMut(PgTx) -> Fut,
    Fut: Future<Output = (PgTx, Result<T, StoreError>)>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tx = PgTx(pool.begin().await.map_err(store_error)?);
        let (tx, result) = work(tx).await;
        let result = match result {
            Ok(value) => tx.0.commit().await.map_err(store_error).map(|()| value),
            Err(error) => {
                let _ = tx.0.rollback().await;
                Err(error)
            }
        };
        match result {
            Err(StoreError::Contention(cause)) if attempt < ATTEMPTS => {
                tracing::debug!(%cause, attempt, "retrying after contention");
                // A short, growing, jittered pause so colliding writers fall out of step.
                let jitter = u64::from(rand::random::<u8>());
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt) * 10 + jitter % 20)).await;
            }
            other => return other,
        }
    }
}

pub async fn append(
    pool: &PgPool,
    events: &[AccountEvent],
    settings: &FoldSettings,
    now: Millis,
) -> Result<AppendOutcome, StoreError> {
    in_transaction(pool, |mut tx| async move {
        let result = roomlog_store_sql::append(&mut tx, events, settings, now).await;
        (tx, result)
    })
    .await
}

pub async fn revisit_due(pool: &PgPool, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    let mut changed = 0;
    loop {
        let done = in_transaction(pool, |mut tx| async move {
            let result = roomlog_store_sql::revisit(&mut tx, settings, now).await;
            (tx, result)
        })
        .await?;
        changed += done;
        if done < roomlog_store_sql::REVISIT_BATCH as u64 {
            return Ok(changed);
        }
    }
}

pub async fn rebuild(pool: &PgPool, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
    let rooms: Vec<(String, String)> =
        sqlx::query_as(statements::ROOMS_WITH_EVENTS).fetch_all(pool).await.map_err(store_error)?;
    let mut report = RebuildReport::default();
    for batch in rooms.chunks(200) {
        let events = in_transaction(pool, |mut tx| async move {
            let mut events = 0;
            for (account, room) in batch {
                let step = match (parse(account), parse(room)) {
                    (Ok(account), Ok(room)) => {
                        roomlog_store_sql::rebuild_room(&mut tx, &account, &room, settings, now).await
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e),
                };
                match step {
                    Ok(n) => events += n,
                    Err(error) => return (tx, Err(error)),
                }
            }
            (tx, Ok(events))
        })
        .await?;
        report.events += events;
        report.rooms += batch.len() as u64;
    }
    Ok(report)
}

/// Retention (`Store::purge_before`): the shared statements, in one transaction.
pub async fn purge_before(pool: &PgPool, cutoff: Millis) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let mut rooms = 0;
    for sql in statements::PURGE {
        let done = sqlx::query(&numbered(sql)).bind(cutoff.secs()).execute(&mut *tx).await.map_err(store_error)?;
        rooms = done.rows_affected();
    }
    tx.commit().await.map_err(store_error)?;
    Ok(rooms)
}
