//! The list and fetch queries of `roomlog-store-sql` on a small pool of read-only connections.
//!
//! A query runs on the calling task's thread, without a hand-off: the statements are prepared
//! once per connection and each is an index range scan bounded by the page size (at most 1000
//! rows), tens of microseconds for a page of 50, less than passing it to another thread and back
//! would cost. A caller waits (asynchronously) only when every connection is busy.

use std::path::PathBuf;
use std::sync::Mutex;

use roomlog_core::page::{PageRequest, Row};
use roomlog_core::usage::RoomUsage;
use roomlog_core::{AccountSid, IdentityFilter, ParticipantSid, RoomFilter, RoomSid, StoreError, StoredJson};
use roomlog_store_sql::usage::{room_usage, statements as usage_sql};
use roomlog_store_sql::{statements, Arg, Query};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OptionalExtension, ToSql};
use tokio::sync::Semaphore;

use crate::connection::{driver_error, open, Role};

pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

struct Bind<'a>(&'a Arg);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Arg::Int(value) => ToSqlOutput::from(*value),
            Arg::Text(value) => ToSqlOutput::from(value.as_str()),
        })
    }
}

impl Readers {
    /// Up to `size` connections, opened when first needed.
    pub fn new(path: PathBuf, size: u32) -> Readers {
        Readers { path, idle: Mutex::new(Vec::new()), permits: Semaphore::new(size.max(1) as usize) }
    }

    /// Runs `read` on an idle connection (or a new one), waiting while every one is busy.
    pub async fn with<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let _permit = self.permits.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => open(&self.path, Role::Reader)?,
        };
        let result = read(&connection);
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(connection);
        result
    }

    /// Closes the idle connections; the next query opens a fresh one.
    pub fn close_idle(&self) {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }

    async fn rows(&self, query: Query) -> Result<Vec<Row>, StoreError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&query.sql).map_err(driver_error)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(query.args.iter().map(Bind)), |row| {
                    Ok(Row { time_secs: row.get(0)?, sid: row.get(1)?, json: StoredJson(row.get(2)?) })
                })
                .and_then(|rows| rows.collect())
                .map_err(driver_error)?;
            Ok(rows)
        })
        .await
    }

    pub async fn list_rooms(
        &self,
        account: &AccountSid,
        filter: &RoomFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_rooms(account, filter, request)).await
    }

    pub async fn list_participants(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_participants(account, room, request)).await
    }

    pub async fn list_identity_sessions(
        &self,
        account: &AccountSid,
        filter: &IdentityFilter,
        request: &PageRequest,
    ) -> Result<Vec<Row>, StoreError> {
        self.rows(roomlog_store_sql::list_identity_sessions(account, filter, request)).await
    }

    pub async fn room_usage(
        &self,
        account: &AccountSid,
        first_day: i64,
        last_day: i64,
    ) -> Result<Vec<RoomUsage>, StoreError> {
        let rows: Vec<(i64, Option<String>, [i64; 7], String)> = self
            .with(|connection| {
                let mut statement = connection.prepare_cached(usage_sql::ROOM_USAGE_IN_DAYS).map_err(driver_error)?;
                let rows = statement
                    .query_map(rusqlite::params![account.as_str(), first_day, last_day], |row| {
                        let mut counts = [0i64; 7];
                        for (i, count) in counts.iter_mut().enumerate() {
                            *count = row.get(2 + i)?;
                        }
                        Ok((row.get(0)?, row.get(1)?, counts, row.get(9)?))
                    })
                    .and_then(|rows| rows.collect())
                    .map_err(driver_error)?;
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(day, room_type, counts, identities)| room_usage(day, room_type, counts, &identities))
            .collect()
    }

    pub async fn room(&self, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError> {
        Ok(self.value(statements::ROOM, &[account.as_str(), room.as_str()]).await?.map(StoredJson))
    }

    pub async fn participant(
        &self,
        account: &AccountSid,
        room: &RoomSid,
        participant: &ParticipantSid,
    ) -> Result<Option<StoredJson>, StoreError> {
        let keys = [account.as_str(), room.as_str(), participant.as_str()];
        Ok(self.value(statements::PARTICIPANT, &keys).await?.map(StoredJson))
    }

    /// The first column of the one row a query finds, if any.
    pub async fn value<T: rusqlite::types::FromSql>(&self, sql: &str, keys: &[&str]) -> Result<Option<T>, StoreError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(sql).map_err(driver_error)?;
            statement.query_row(rusqlite::params_from_iter(keys), |row| row.get(0)).optional().map_err(driver_error)
        })
        .await
    }
}
