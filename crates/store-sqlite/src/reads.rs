//! The list and fetch queries of `roomlog-store-sql`, bound and run on the reader pool.

use roomlog_core::page::{PageRequest, Row};
use roomlog_core::{AccountSid, ParticipantSid, RoomFilter, RoomSid, StoreError, StoredJson};
use roomlog_store_sql::{statements, Arg, Query};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row as _, Sqlite, SqlitePool};

use crate::store_error;

fn bind(query: &Query) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
    query.args.iter().fold(sqlx::query(&query.sql), |q, arg| match arg {
        Arg::Int(value) => q.bind(*value),
        Arg::Text(value) => q.bind(value.as_str()),
    })
}

async fn rows(pool: &SqlitePool, query: Query) -> Result<Vec<Row>, StoreError> {
    let rows = bind(&query).fetch_all(pool).await.map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|row| Row { time_secs: row.get(0), sid: row.get(1), json: StoredJson(row.get(2)) })
        .collect())
}

pub async fn list_rooms(
    pool: &SqlitePool,
    account: &AccountSid,
    filter: &RoomFilter,
    request: &PageRequest,
) -> Result<Vec<Row>, StoreError> {
    rows(pool, roomlog_store_sql::list_rooms(account, filter, request)).await
}

pub async fn list_participants(
    pool: &SqlitePool,
    account: &AccountSid,
    room: &RoomSid,
    request: &PageRequest,
) -> Result<Vec<Row>, StoreError> {
    rows(pool, roomlog_store_sql::list_participants(account, room, request)).await
}

async fn summary(pool: &SqlitePool, sql: &str, keys: &[&str]) -> Result<Option<StoredJson>, StoreError> {
    let query = keys.iter().fold(sqlx::query_scalar(sql), |q, key| q.bind(*key));
    Ok(query.fetch_optional(pool).await.map_err(store_error)?.map(StoredJson))
}

pub async fn room(pool: &SqlitePool, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError> {
    summary(pool, statements::ROOM, &[account.as_str(), room.as_str()]).await
}

pub async fn participant(
    pool: &SqlitePool,
    account: &AccountSid,
    room: &RoomSid,
    participant: &ParticipantSid,
) -> Result<Option<StoredJson>, StoreError> {
    summary(pool, statements::PARTICIPANT, &[account.as_str(), room.as_str(), participant.as_str()]).await
}
