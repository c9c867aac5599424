//! Loading the mix: through the real ingest path (`Store::append` in large batches), or, for
//! sizes whose raw events would not fit on disk, folded with the same code (`update`) and
//! written with the same statements, without the raw events (`--summaries-only`). The test
//! `bulk_rows_equal_ingested_rows` proves both give identical room and participant rows.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use roomlog_core::account::Account;
use roomlog_core::fold::update::{update, RoomUpdate};
use roomlog_core::{AccountEvent, AccountSid, FoldSettings, Millis, RoomSid, Store};
use roomlog_store_postgres::PostgresStore;
use roomlog_store_sql::usage::{statements as usage_sql, UsageRow};
use roomlog_store_sql::{numbered, statements};
use roomlog_store_sqlite::SqliteStore;
use sqlx::{Connection, Executor};

use crate::mix;

#[derive(clap::Args)]
pub struct LoadArgs {
    #[arg(long)]
    pub database_url: String,
    #[arg(long)]
    pub rooms: u64,
    /// Events per `Store::append` call (whole rooms are never split across calls).
    #[arg(long, default_value_t = 20_000)]
    pub batch_events: usize,
    /// Fold and write the room and participant rows directly, without storing raw events.
    #[arg(long)]
    pub summaries_only: bool,
    /// With --summaries-only: write only what the rooms list reads, room rows with `{}` in
    /// place of each fold state and no participants, for sizes that would not fit on the disk.
    #[arg(long, requires = "summaries_only")]
    pub list_only: bool,
    /// The "now" summaries are computed at, in ms since the epoch (default: the real now).
    #[arg(long)]
    pub now_ms: Option<i64>,
}

/// The settings `roomlog serve` runs with by default (docs/behaviour.md §5).
pub fn settings() -> FoldSettings {
    FoldSettings { settle_window_ms: 300_000, room_timeout_ms: 86_400_000 }
}

pub fn account() -> Account {
    Account {
        sid: mix::ACCOUNT_SID.parse().expect("a valid SID"),
        auth_token: mix::AUTH_TOKEN.to_owned(),
        friendly_name: "bench".into(),
        verify_callbacks: true,
    }
}

pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url, 2).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        let store = PostgresStore::open(url, 4).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    }
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let now = args.now_ms.map_or_else(Millis::now, Millis);
    let store = open(&args.database_url).await.context("opening the database")?;
    store.upsert_account(&account()).await?;
    let started = Instant::now();
    if args.summaries_only {
        drop(store);
        bulk(&args.database_url, args.rooms, now, args.list_only).await?;
    } else {
        ingest(store, args.rooms, args.batch_events, now).await?;
    }
    eprintln!("loaded {} rooms in {:.1} s", args.rooms, started.elapsed().as_secs_f64());
    Ok(())
}

/// The real path: batches of whole rooms through `Store::append`; the next batch is made while
/// the previous one is written.
pub async fn ingest(store: Arc<dyn Store>, rooms: u64, batch_events: usize, now: Millis) -> anyhow::Result<()> {
    let account: AccountSid = mix::ACCOUNT_SID.parse()?;
    let settings = settings();
    let mut pending: Option<tokio::task::JoinHandle<anyhow::Result<()>>> = None;
    let mut batch: Vec<AccountEvent> = Vec::with_capacity(batch_events + 64);
    let mut events = 0u64;
    let mut reported = 0u64;
    let started = Instant::now();
    for n in 0..rooms {
        batch.extend(mix::account_events(&account, mix::room_events(n, rooms)));
        if batch.len() >= batch_events || n + 1 == rooms {
            events += batch.len() as u64;
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_events + 64));
            if let Some(previous) = pending.take() {
                previous.await??;
            }
            let store = store.clone();
            pending = Some(tokio::spawn(async move {
                store.append(&full, &settings, now).await?;
                Ok(())
            }));
            if (n + 1) / 100_000 != reported {
                reported = (n + 1) / 100_000;
                let secs = started.elapsed().as_secs_f64();
                eprintln!("{} rooms, {events} events, {:.0} events/s", n + 1, events as f64 / secs);
            }
        }
    }
    if let Some(previous) = pending.take() {
        previous.await??;
    }
    Ok(())
}

/// The rows `append` writes for one room, folded from all its events at once.
pub fn fold_room(account: &AccountSid, n: u64, rooms: u64, now: Millis) -> RoomUpdate {
    let events = mix::account_events(account, mix::room_events(n, rooms));
    let room: RoomSid = events[0].event.room_sid.clone();
    let pairs = events.iter().map(|e| (e.event_id.as_str(), &e.event));
    update(account, &room, None, pairs, &settings(), now).expect("a fresh state always folds")
}

/// Summaries only: fold each room with `update` and write its rows with the store's statements,
/// in large transactions (SQLite with durability off for the load, checkpointed at the end).
/// The raw events are not stored: reads never touch them. `list_only` writes `{}` in place of
/// each room's fold state (3 KB a room) and no participants: only what the rooms list reads.
async fn bulk(url: &str, rooms: u64, now: Millis, list_only: bool) -> anyhow::Result<()> {
    let account: AccountSid = mix::ACCOUNT_SID.parse()?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<RoomUpdate>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let chunk = 5_000;
        for start in (0..rooms).step_by(chunk) {
            let end = (start + chunk as u64).min(rooms);
            let updates: Vec<_> = (start..end).map(|n| fold_room(&account, n, rooms, now)).collect();
            if tx.blocking_send(updates).is_err() {
                return;
            }
        }
    });
    let mut sink = Sink::open(url).await?;
    let mut written = 0u64;
    let started = Instant::now();
    while let Some(mut updates) = rx.recv().await {
        if list_only {
            for update in &mut updates {
                update.state_json = "{}".into();
                update.participants.clear();
            }
        }
        sink.write(&updates).await?;
        written += updates.len() as u64;
        if written.is_multiple_of(500_000) {
            eprintln!("{written} rooms, {:.0} rooms/s", written as f64 / started.elapsed().as_secs_f64());
        }
    }
    producer.await?;
    sink.finish().await
}

/// Where bulk rows go: the statements of `roomlog-store-sql`, in each dialect, on the driver
/// each store uses (rusqlite for SQLite, sqlx for PostgreSQL).
enum Sink {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx::PgConnection),
}

impl Sink {
    async fn open(url: &str) -> anyhow::Result<Sink> {
        if url.starts_with("sqlite:") {
            let conn = rusqlite::Connection::open(roomlog_store_sqlite::database_path(url)?)?;
            // Durability off for the load, a large cache; `finish` checkpoints.
            conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -400000; PRAGMA foreign_keys = ON")?;
            Ok(Sink::Sqlite(conn))
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            conn.execute("SET synchronous_commit = off").await?;
            Ok(Sink::Postgres(conn))
        }
    }

    async fn write(&mut self, updates: &[RoomUpdate]) -> anyhow::Result<()> {
        match self {
            Sink::Sqlite(conn) => write_sqlite(conn, updates)?,
            Sink::Postgres(conn) => write_postgres(conn, updates).await?,
        }
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Sqlite(conn) => {
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Sink::Postgres(mut conn) => {
                conn.execute("VACUUM ANALYZE rooms").await?;
            }
        }
        Ok(())
    }
}

fn write_sqlite(conn: &mut rusqlite::Connection, updates: &[RoomUpdate]) -> rusqlite::Result<()> {
    let txn = conn.transaction()?;
    {
        let mut rooms = txn.prepare_cached(statements::UPSERT_ROOM)?;
        let mut participants = txn.prepare_cached(statements::UPSERT_PARTICIPANT)?;
        let mut usage = txn.prepare_cached(usage_sql::UPSERT_ROOM_USAGE)?;
        for update in updates {
            let row = &update.room;
            let room = update.state.room_sid.as_str();
            rooms.execute(rusqlite::params![
                mix::ACCOUNT_SID,
                room,
                row.create_time_secs,
                row.room_name.as_deref(),
                row.room_type,
                row.codecs,
                row.revisit_at.map(|m| m.0),
                update.state_json,
                row.json.0
            ])?;
            for participant in &update.participants {
                participants.execute(rusqlite::params![
                    mix::ACCOUNT_SID,
                    room,
                    participant.participant_sid,
                    participant.join_time_secs,
                    participant.identity,
                    participant.json.0
                ])?;
            }
            let u = UsageRow::of(&update.usage);
            let [completed, sessions, seconds, minutes, room_seconds, recording, peak] = u.counts;
            usage.execute(rusqlite::params![
                mix::ACCOUNT_SID,
                room,
                u.day,
                u.room_type,
                completed,
                sessions,
                seconds,
                minutes,
                room_seconds,
                recording,
                peak,
                u.identities
            ])?;
        }
    }
    txn.commit()
}

async fn write_postgres(conn: &mut sqlx::PgConnection, updates: &[RoomUpdate]) -> Result<(), sqlx::Error> {
    let (room_sql, participant_sql) = (numbered(statements::UPSERT_ROOM), numbered(statements::UPSERT_PARTICIPANT));
    let usage_sql = numbered(usage_sql::UPSERT_ROOM_USAGE);
    let mut txn = conn.begin().await?;
    for update in updates {
        let row = &update.room;
        let room = update.state.room_sid.as_str();
        sqlx::query(&room_sql)
            .bind(mix::ACCOUNT_SID)
            .bind(room)
            .bind(row.create_time_secs)
            .bind(row.room_name.as_deref())
            .bind(row.room_type)
            .bind(row.codecs)
            .bind(row.revisit_at.map(|m| m.0))
            .bind(&update.state_json)
            .bind(&row.json.0)
            .execute(&mut *txn)
            .await?;
        for participant in &update.participants {
            sqlx::query(&participant_sql)
                .bind(mix::ACCOUNT_SID)
                .bind(room)
                .bind(&participant.participant_sid)
                .bind(participant.join_time_secs)
                .bind(&participant.identity)
                .bind(&participant.json.0)
                .execute(&mut *txn)
                .await?;
        }
        let u = UsageRow::of(&update.usage);
        let mut usage = sqlx::query(&usage_sql).bind(mix::ACCOUNT_SID).bind(room).bind(u.day).bind(u.room_type);
        for count in u.counts {
            usage = usage.bind(count);
        }
        usage.bind(u.identities).execute(&mut *txn).await?;
    }
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(url: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(roomlog_store_sqlite::database_path(url).unwrap()).unwrap();
        let mut out = Vec::new();
        for sql in [
            "SELECT account_sid, room_sid, create_time, room_name, room_type, codecs, revisit_ms, state, summary
             FROM rooms ORDER BY account_sid, room_sid",
            "SELECT account_sid, room_sid, participant_sid, join_time, identity, summary
             FROM participants ORDER BY account_sid, room_sid, participant_sid",
            "SELECT * FROM room_usage ORDER BY account_sid, room_sid",
        ] {
            let mut statement = conn.prepare(sql).unwrap();
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..columns).map(|i| row.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect()
                })
                .unwrap();
            out.extend(rows.map(|cells: rusqlite::Result<Vec<String>>| cells.unwrap().join("|")));
        }
        out
    }

    #[tokio::test]
    async fn bulk_rows_equal_ingested_rows() {
        let dir = tempfile::tempdir().unwrap();
        let ingested = format!("sqlite://{}", dir.path().join("a.db").display());
        let bulked = format!("sqlite://{}", dir.path().join("b.db").display());
        let now = Millis(mix::END.0 + 3_600_000);
        let rooms = 3_000;
        ingest(open(&ingested).await.unwrap(), rooms, 5_000, now).await.unwrap();
        open(&bulked).await.unwrap();
        bulk(&bulked, rooms, now, false).await.unwrap();
        let (a, b) = (dump(&ingested), dump(&bulked));
        assert!(a.len() > 2 * rooms as usize, "rooms, participants and usage were written");
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y);
        }
    }
}
