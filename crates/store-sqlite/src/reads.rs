//! The list and fetch queries: keyset range scans on the indexes of migration 0001.

use roomlog_core::page::{PageRequest, Row};
use roomlog_core::{AccountSid, Millis, ParticipantSid, RoomFilter, RoomSid, StoreError, StoredJson};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Row as _, SqlitePool};

use crate::store_error;

/// A summary's `create_time` is whole seconds; `create_time >= t` (and `< t`) for an instant
/// `t` with milliseconds holds exactly when the seconds are `>=` (`<`) `t` rounded up.
fn ceil_secs(instant: Millis) -> i64 {
    instant.0.div_euclid(1000) + i64::from(instant.0.rem_euclid(1000) != 0)
}

/// The keyset condition and order for a list sorted by `(time, sid)`, `descending` or not.
fn keyset(request: &PageRequest, descending: bool) -> (&'static str, &'static str) {
    let forward = !request.walks_backwards();
    match (descending == forward, request.cursor.is_some()) {
        // Walking toward smaller keys.
        (true, has_cursor) => (if has_cursor { "<" } else { "" }, "DESC"),
        (false, has_cursor) => (if has_cursor { ">" } else { "" }, "ASC"),
    }
}

fn push_page(
    sql: &mut String,
    args: &mut SqliteArguments<'_>,
    request: &PageRequest,
    time: &str,
    sid: &str,
    descending: bool,
) {
    let (op, order) = keyset(request, descending);
    if let Some(cursor) = &request.cursor {
        sql.push_str(&format!(" AND ({time}, {sid}) {op} (?, ?)"));
        args.add(cursor.time_secs).expect("bind");
        args.add(cursor.sid.clone()).expect("bind");
    }
    sql.push_str(&format!(" ORDER BY {time} {order}, {sid} {order} LIMIT ?"));
    args.add(i64::from(request.fetch_limit())).expect("bind");
    if request.cursor.is_none() && request.offset > 0 {
        sql.push_str(" OFFSET ?");
        args.add(request.offset as i64).expect("bind");
    }
}

pub async fn list_rooms(
    pool: &SqlitePool,
    account: &AccountSid,
    filter: &RoomFilter,
    request: &PageRequest,
) -> Result<Vec<Row>, StoreError> {
    let mut sql = String::from("SELECT create_time, room_sid, summary FROM rooms WHERE account_sid = ?");
    let mut args = SqliteArguments::default();
    args.add(account.to_string()).expect("bind");
    if !filter.room_types.is_empty() {
        let marks = vec!["?"; filter.room_types.len()].join(", ");
        sql.push_str(&format!(" AND room_type IN ({marks})"));
        for room_type in &filter.room_types {
            args.add(room_type.as_str()).expect("bind");
        }
    }
    if filter.codecs.0 != 0 {
        sql.push_str(" AND (codecs & ?) != 0");
        args.add(i64::from(filter.codecs.0)).expect("bind");
    }
    if let Some(name) = &filter.room_name {
        sql.push_str(" AND room_name = ?");
        args.add(name.clone()).expect("bind");
    }
    let lower = match (filter.created_after, request.cutoff) {
        (Some(a), Some(c)) => Some(a.max(c)),
        (a, c) => a.or(c),
    };
    if let Some(after) = lower {
        sql.push_str(" AND create_time >= ?");
        args.add(ceil_secs(after)).expect("bind");
    }
    if let Some(before) = filter.created_before {
        sql.push_str(" AND create_time < ?");
        args.add(ceil_secs(before)).expect("bind");
    }
    push_page(&mut sql, &mut args, request, "create_time", "room_sid", true);
    fetch_rows(pool, sql, args).await
}

pub async fn list_participants(
    pool: &SqlitePool,
    account: &AccountSid,
    room: &RoomSid,
    request: &PageRequest,
) -> Result<Vec<Row>, StoreError> {
    let mut sql = String::from(
        "SELECT join_time, participant_sid, summary FROM participants WHERE account_sid = ? AND room_sid = ?",
    );
    let mut args = SqliteArguments::default();
    args.add(account.to_string()).expect("bind");
    args.add(room.to_string()).expect("bind");
    push_page(&mut sql, &mut args, request, "join_time", "participant_sid", false);
    fetch_rows(pool, sql, args).await
}

async fn fetch_rows(pool: &SqlitePool, sql: String, args: SqliteArguments<'_>) -> Result<Vec<Row>, StoreError> {
    let rows = sqlx::query_with(&sql, args).fetch_all(pool).await.map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|row| Row { time_secs: row.get(0), sid: row.get(1), json: StoredJson(row.get(2)) })
        .collect())
}

pub async fn room(pool: &SqlitePool, account: &AccountSid, room: &RoomSid) -> Result<Option<StoredJson>, StoreError> {
    let json = sqlx::query_scalar("SELECT summary FROM rooms WHERE account_sid = ? AND room_sid = ?")
        .bind(account.as_str())
        .bind(room.as_str())
        .fetch_optional(pool)
        .await
        .map_err(store_error)?;
    Ok(json.map(StoredJson))
}

pub async fn participant(
    pool: &SqlitePool,
    account: &AccountSid,
    room: &RoomSid,
    participant: &ParticipantSid,
) -> Result<Option<StoredJson>, StoreError> {
    let json = sqlx::query_scalar(
        "SELECT summary FROM participants WHERE account_sid = ? AND room_sid = ? AND participant_sid = ?",
    )
    .bind(account.as_str())
    .bind(room.as_str())
    .bind(participant.as_str())
    .fetch_optional(pool)
    .await
    .map_err(store_error)?;
    Ok(json.map(StoredJson))
}
