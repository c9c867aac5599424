//! SQLite's side of the shared write algorithms (`roomlog_store_sql::{append_many, revisit,
//! rebuild_room}` and the import): a transaction on the writer thread's connection, every
//! statement prepared once. SQLite serialises writers, so reading a room's state inside the
//! transaction locks it.
//!
//! The shared algorithms are `async` because PostgreSQL's I/O is. Here every method completes
//! without waiting, so the writer thread drives them with `complete` rather than a runtime.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use roomlog_core::fold::update::{ParticipantRow, RoomUpdate};
use roomlog_core::outbox::NewMessage;
use roomlog_core::usage::RoomUsage;
use roomlog_core::{AccountEvent, AccountSid, Checkpoint, Millis, RoomSid, StoreError};
use roomlog_store_sql::import::{statements as import_sql, ImportTx, ImportedRow};
use roomlog_store_sql::outbox::statements as outbox_sql;
use roomlog_store_sql::usage::{statements as usage_sql, UsageRow};
use roomlog_store_sql::Destinations;
use roomlog_store_sql::{statements, DueRoom, WriteTx};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::connection::driver_error;

pub struct WriterTx<'c>(pub Transaction<'c>);

/// Most writes to a known room leave its sort and filter columns as they were. SQLite updates
/// every index whose columns a statement sets, whether or not their values change, so such a
/// write sets only the state, the summary and `revisit_ms` (one small index) and the upsert,
/// which also rewrites the entries in all the list indexes, is left for the rest.
const UPDATE_ROOM_IN_PLACE: &str = "UPDATE rooms SET revisit_ms = ?, state = ?, summary = ?
     WHERE account_sid = ? AND room_sid = ? AND create_time = ? AND room_name IS ? AND room_type IS ? AND codecs = ?";

/// Runs a future that never waits (one over `WriterTx`) to its end on the calling thread.
pub fn complete<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("a WriterTx operation waited"),
    }
}

/// A SID (or other key) read back from a row.
pub(crate) fn parse<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Other(Box::new(e)))
}

impl WriterTx<'_> {
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
        self.0.prepare_cached(sql).and_then(|mut statement| statement.execute(params)).map_err(driver_error)
    }

    fn upsert_participants(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        rows: &[ParticipantRow],
    ) -> Result<(), StoreError> {
        let mut statement = self.0.prepare_cached(statements::UPSERT_PARTICIPANT).map_err(driver_error)?;
        for participant in rows {
            statement
                .execute(params![
                    account.as_str(),
                    room.as_str(),
                    participant.participant_sid,
                    participant.join_time_secs,
                    participant.identity,
                    participant.json.0
                ])
                .map_err(driver_error)?;
        }
        Ok(())
    }

    fn upsert_usage(&self, account: &AccountSid, room: &RoomSid, usage: &RoomUsage) -> Result<(), StoreError> {
        let row = UsageRow::of(usage);
        let [completed, sessions, seconds, minutes, room_seconds, recording, peak] = row.counts;
        let values = params![
            account.as_str(),
            room.as_str(),
            row.day,
            row.room_type,
            completed,
            sessions,
            seconds,
            minutes,
            room_seconds,
            recording,
            peak,
            row.identities
        ];
        self.execute(usage_sql::UPSERT_ROOM_USAGE, values).map(drop)
    }
}

impl WriteTx for WriterTx<'_> {
    async fn insert_event(&mut self, event: &AccountEvent, body: &str, received: Millis) -> Result<bool, StoreError> {
        let inserted = self.execute(
            statements::INSERT_EVENT,
            params![
                event.account_sid.as_str(),
                event.event_id,
                event.event.room_sid.as_str(),
                event.event.timestamp.0,
                event.event.event.as_str(),
                event.source,
                body,
                event.raw,
                received.0
            ],
        )?;
        Ok(inserted == 1)
    }

    async fn lock_room_state(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Option<String>, StoreError> {
        let mut statement = self.0.prepare_cached(statements::ROOM_STATE).map_err(driver_error)?;
        statement.query_row(params![account.as_str(), room.as_str()], |row| row.get(0)).optional().map_err(driver_error)
    }

    async fn write_room(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        update: &RoomUpdate,
        clear: bool,
    ) -> Result<(), StoreError> {
        if clear {
            self.execute(statements::DELETE_PARTICIPANTS, params![account.as_str(), room.as_str()])?;
        }
        let row = &update.room;
        let in_place = self.execute(
            UPDATE_ROOM_IN_PLACE,
            params![
                row.revisit_at.map(|m| m.0),
                update.state_json,
                row.json.0,
                account.as_str(),
                room.as_str(),
                row.create_time_secs,
                row.room_name,
                row.room_type,
                row.codecs
            ],
        )?;
        if in_place == 0 {
            self.execute(
                statements::UPSERT_ROOM,
                params![
                    account.as_str(),
                    room.as_str(),
                    row.create_time_secs,
                    row.room_name,
                    row.room_type,
                    row.codecs,
                    row.revisit_at.map(|m| m.0),
                    update.state_json,
                    row.json.0
                ],
            )?;
        }
        self.upsert_participants(account, room, &update.participants)?;
        self.upsert_usage(account, room, &update.usage)
    }

    async fn due_rooms(&mut self, now: Millis, limit: i64) -> Result<Vec<DueRoom>, StoreError> {
        let mut statement = self.0.prepare_cached(statements::DUE_ROOMS).map_err(driver_error)?;
        let rows = statement
            .query_map(params![now.0, limit], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get(2)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(driver_error)?;
        rows.into_iter()
            .map(|(account, room, state)| Ok(DueRoom { account: parse(&account)?, room: parse(&room)?, state }))
            .collect()
    }

    async fn room_events(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self.0.prepare_cached(statements::ROOM_EVENTS).map_err(driver_error)?;
        statement
            .query_map(params![account.as_str(), room.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(driver_error)
    }

    async fn destinations(&mut self, account: &AccountSid) -> Result<Destinations, StoreError> {
        let mut targets = self.0.prepare_cached(outbox_sql::FORWARD_TARGETS).map_err(driver_error)?;
        let forward_targets = targets
            .query_map([account.as_str()], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(driver_error)?;
        let mut endpoints = self.0.prepare_cached(outbox_sql::ACCOUNT_ENDPOINTS).map_err(driver_error)?;
        let endpoints = endpoints
            .query_map([account.as_str()], |row| Ok((row.get(0)?, row.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(driver_error)?;
        Ok(Destinations { forward_targets, endpoints })
    }

    async fn enqueue(&mut self, messages: &[NewMessage], now: Millis) -> Result<(), StoreError> {
        let mut statement = self.0.prepare_cached(outbox_sql::ENQUEUE).map_err(driver_error)?;
        let expires = roomlog_store_sql::outbox::expires(now);
        for m in messages {
            statement
                .execute(params![
                    m.id,
                    m.account_sid.as_str(),
                    m.kind.as_str(),
                    m.target,
                    m.endpoint_id,
                    m.room_sid.as_str(),
                    m.body,
                    m.idempotency_token,
                    now.0,
                    expires.0,
                    now.0
                ])
                .map_err(driver_error)?;
        }
        Ok(())
    }
}

impl ImportTx for WriterTx<'_> {
    async fn import_room(&mut self, account: &AccountSid, row: &ImportedRow) -> Result<bool, StoreError> {
        let written = self.execute(
            import_sql::IMPORT_ROOM,
            params![
                account.as_str(),
                row.room_sid.as_str(),
                row.create_time_secs,
                row.room_name,
                row.room_type,
                row.codecs,
                row.json.0
            ],
        )?;
        Ok(written == 1)
    }

    async fn replace_participants(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        rows: &[ParticipantRow],
    ) -> Result<(), StoreError> {
        self.execute(statements::DELETE_PARTICIPANTS, params![account.as_str(), room.as_str()])?;
        self.upsert_participants(account, room, rows)
    }

    async fn write_usage(&mut self, account: &AccountSid, room: &RoomSid, usage: &RoomUsage) -> Result<(), StoreError> {
        self.upsert_usage(account, room, usage)
    }

    async fn save_checkpoint(&mut self, checkpoint: &Checkpoint, now: Millis) -> Result<(), StoreError> {
        self.execute(import_sql::SAVE_CHECKPOINT, params![checkpoint.key, checkpoint.value, now.0])?;
        Ok(())
    }
}
