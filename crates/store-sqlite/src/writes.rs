//! Ingest, lifecycle revisits and rebuilds: events and the summaries derived from them are
//! written in one transaction.

use std::collections::BTreeMap;

use roomlog_core::fold::update::{update, RoomUpdate};
use roomlog_core::{
    AccountEvent, AccountSid, AppendOutcome, FoldSettings, Millis, RebuildReport, RoomEvent, RoomSid, StoreError,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use crate::{corrupt, store_error};

type Tx<'c> = Transaction<'c, Sqlite>;

pub async fn append(
    pool: &SqlitePool,
    events: &[AccountEvent],
    settings: &FoldSettings,
    now: Millis,
) -> Result<AppendOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    let mut outcome = AppendOutcome::default();
    let mut fresh: BTreeMap<(&str, &str), Vec<&AccountEvent>> = BTreeMap::new();
    for event in events {
        let body = serde_json::to_string(&event.event).map_err(corrupt)?;
        let inserted = sqlx::query(
            "INSERT INTO events (account_sid, event_id, room_sid, ts_ms, kind, source, body, raw, received_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(event.account_sid.as_str())
        .bind(&event.event_id)
        .bind(event.event.room_sid.as_str())
        .bind(event.event.timestamp.0)
        .bind(event.event.event.as_str())
        .bind(event.source)
        .bind(body)
        .bind(event.raw.to_string())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if inserted.rows_affected() == 1 {
            outcome.accepted += 1;
            fresh.entry((event.account_sid.as_str(), event.event.room_sid.as_str())).or_default().push(event);
        } else {
            outcome.duplicates += 1;
        }
    }
    for (_, room_events) in fresh {
        let first = room_events[0];
        let (account, room) = (&first.account_sid, &first.event.room_sid);
        let stored = room_state(&mut tx, account, room).await?;
        let events = room_events.iter().map(|e| (e.event_id.as_str(), &e.event));
        let update = update(account, room, stored.as_deref(), events, settings, now).map_err(corrupt)?;
        write_room(&mut tx, account, room, &update).await?;
    }
    tx.commit().await.map_err(store_error)?;
    Ok(outcome)
}

async fn room_state(tx: &mut Tx<'_>, account: &AccountSid, room: &RoomSid) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT state FROM rooms WHERE account_sid = ? AND room_sid = ?")
        .bind(account.as_str())
        .bind(room.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)
}

async fn write_room(
    tx: &mut Tx<'_>,
    account: &AccountSid,
    room: &RoomSid,
    update: &RoomUpdate,
) -> Result<(), StoreError> {
    let row = &update.room;
    sqlx::query(
        "INSERT INTO rooms (account_sid, room_sid, create_time, room_name, room_type, codecs, revisit_ms, state, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_sid, room_sid) DO UPDATE SET
           create_time = excluded.create_time, room_name = excluded.room_name, room_type = excluded.room_type,
           codecs = excluded.codecs, revisit_ms = excluded.revisit_ms, state = excluded.state, summary = excluded.summary",
    )
    .bind(account.as_str())
    .bind(room.as_str())
    .bind(row.create_time_secs)
    .bind(row.room_name.as_deref())
    .bind(row.room_type)
    .bind(row.codecs)
    .bind(row.revisit_at.map(|m| m.0))
    .bind(&update.state_json)
    .bind(&row.json.0)
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    for participant in &update.participants {
        sqlx::query(
            "INSERT INTO participants (account_sid, room_sid, participant_sid, join_time, summary) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account_sid, room_sid, participant_sid) DO UPDATE SET
               join_time = excluded.join_time, summary = excluded.summary",
        )
        .bind(account.as_str())
        .bind(room.as_str())
        .bind(&participant.participant_sid)
        .bind(participant.join_time_secs)
        .bind(&participant.json.0)
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

fn sids(row: &sqlx::sqlite::SqliteRow) -> Result<(AccountSid, RoomSid), StoreError> {
    let account: String = row.get(0);
    let room: String = row.get(1);
    Ok((
        account.parse().map_err(|e| StoreError::Other(Box::new(e)))?,
        room.parse().map_err(|e| StoreError::Other(Box::new(e)))?,
    ))
}

/// Re-summarises rooms due for a time-driven change, a batch per transaction.
pub async fn revisit_due(pool: &SqlitePool, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    let mut changed = 0;
    loop {
        let mut tx = pool.begin().await.map_err(store_error)?;
        let due = sqlx::query("SELECT account_sid, room_sid, state FROM rooms WHERE revisit_ms <= ? LIMIT 500")
            .bind(now.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        if due.is_empty() {
            return Ok(changed);
        }
        for row in &due {
            let (account, room) = sids(row)?;
            let state: String = row.get(2);
            let update = update(&account, &room, Some(&state), std::iter::empty(), settings, now).map_err(corrupt)?;
            write_room(&mut tx, &account, &room, &update).await?;
        }
        tx.commit().await.map_err(store_error)?;
        changed += due.len() as u64;
    }
}

/// Refolds every room from its stored events, a batch of rooms per transaction.
pub async fn rebuild(pool: &SqlitePool, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
    let mut report = RebuildReport::default();
    let rooms = sqlx::query("SELECT DISTINCT account_sid, room_sid FROM events ORDER BY account_sid, room_sid")
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    for batch in rooms.chunks(200) {
        let mut tx = pool.begin().await.map_err(store_error)?;
        for row in batch {
            let (account, room) = sids(row)?;
            let stored = sqlx::query("SELECT event_id, body FROM events WHERE account_sid = ? AND room_sid = ?")
                .bind(account.as_str())
                .bind(room.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error)?;
            let events: Vec<(String, RoomEvent)> = stored
                .iter()
                .map(|r| Ok((r.get::<String, _>(0), serde_json::from_str(r.get::<&str, _>(1)).map_err(corrupt)?)))
                .collect::<Result<_, StoreError>>()?;
            let update = update(&account, &room, None, events.iter().map(|(id, e)| (id.as_str(), e)), settings, now)
                .map_err(corrupt)?;
            sqlx::query("DELETE FROM participants WHERE account_sid = ? AND room_sid = ?")
                .bind(account.as_str())
                .bind(room.as_str())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            write_room(&mut tx, &account, &room, &update).await?;
            report.rooms += 1;
            report.events += events.len() as u64;
        }
        tx.commit().await.map_err(store_error)?;
    }
    Ok(report)
}
