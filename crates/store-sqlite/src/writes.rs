//! SQLite's side of the shared write algorithms: a transaction on the single writer connection.
//! SQLite serialises writers, so reading a room's state inside the transaction locks it.

use roomlog_core::fold::update::RoomUpdate;
use roomlog_core::{AccountEvent, AccountSid, FoldSettings, Millis, RebuildReport, RoomSid, StoreError};
use roomlog_store_sql::{statements, DueRoom, WriteTx};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use crate::store_error;

pub(crate) struct SqliteTx<'c>(Transaction<'c, Sqlite>);

fn parse<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Other(Box::new(e)))
}

impl WriteTx for SqliteTx<'_> {
    async fn insert_event(&mut self, event: &AccountEvent, body: &str, received: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(statements::INSERT_EVENT)
            .bind(event.account_sid.as_str())
            .bind(&event.event_id)
            .bind(event.event.room_sid.as_str())
            .bind(event.event.timestamp.0)
            .bind(event.event.event.as_str())
            .bind(event.source)
            .bind(body)
            .bind(event.raw.to_string())
            .bind(received.0)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Many rows per statement: each statement is a round trip to SQLite's worker thread, and
    /// a batch of events would otherwise make one per event.
    async fn insert_events(
        &mut self,
        events: &[(&AccountEvent, String)],
        received: Millis,
    ) -> Result<Vec<bool>, StoreError> {
        let mut inserted = std::collections::HashSet::new();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "{} RETURNING account_sid, event_id",
                many_rows(statements::INSERT_EVENT, "ON CONFLICT", chunk.len())
            );
            let query = chunk.iter().fold(sqlx::query_as::<_, (String, String)>(&sql), |q, (event, body)| {
                q.bind(event.account_sid.as_str())
                    .bind(&event.event_id)
                    .bind(event.event.room_sid.as_str())
                    .bind(event.event.timestamp.0)
                    .bind(event.event.event.as_str())
                    .bind(event.source)
                    .bind(body.as_str())
                    .bind(event.raw.to_string())
                    .bind(received.0)
            });
            inserted.extend(query.fetch_all(&mut *self.0).await.map_err(store_error)?);
        }
        // Of repeats within the batch only the first is new: claim each inserted identity once.
        Ok(events
            .iter()
            .map(|(event, _)| inserted.remove(&(event.account_sid.to_string(), event.event_id.clone())))
            .collect())
    }

    async fn lock_room_state(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(statements::ROOM_STATE)
            .bind(account.as_str())
            .bind(room.as_str())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(store_error)
    }

    async fn write_room(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        update: &RoomUpdate,
        clear: bool,
    ) -> Result<(), StoreError> {
        if clear {
            sqlx::query(statements::DELETE_PARTICIPANTS)
                .bind(account.as_str())
                .bind(room.as_str())
                .execute(&mut *self.0)
                .await
                .map_err(store_error)?;
        }
        let row = &update.room;
        sqlx::query(statements::UPSERT_ROOM)
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
        // All of the room's changed participants in one statement (see `insert_events`).
        for chunk in update.participants.chunks(ROWS_PER_STATEMENT) {
            let sql = many_rows(statements::UPSERT_PARTICIPANT, "ON CONFLICT", chunk.len());
            let query = chunk.iter().fold(sqlx::query(&sql), |q, participant| {
                q.bind(account.as_str())
                    .bind(room.as_str())
                    .bind(&participant.participant_sid)
                    .bind(participant.join_time_secs)
                    .bind(&participant.json.0)
            });
            query.execute(&mut *self.0).await.map_err(store_error)?;
        }
        Ok(())
    }

    async fn due_rooms(&mut self, now: Millis, limit: i64) -> Result<Vec<DueRoom>, StoreError> {
        let rows = sqlx::query(statements::DUE_ROOMS)
            .bind(now.0)
            .bind(limit)
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| Ok(DueRoom { account: parse(r.get(0))?, room: parse(r.get(1))?, state: r.get(2) }))
            .collect()
    }

    async fn room_events(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as(statements::ROOM_EVENTS)
            .bind(account.as_str())
            .bind(room.as_str())
            .fetch_all(&mut *self.0)
            .await
            .map_err(store_error)
    }
}

/// At most 9 parameters a row: well under SQLite's limit of 32766 per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// A one-row `INSERT … VALUES (…) <tail>` statement made to insert `rows` rows; `tail` starts
/// the clause after the values.
fn many_rows(statement: &str, tail: &str, rows: usize) -> String {
    let (head, rest) = statement.split_once("VALUES").expect("INSERT … VALUES …");
    let (row, tail_clause) = rest.split_at(rest.find(tail).expect("the clause after VALUES"));
    format!("{head}VALUES {} {tail_clause}", vec![row.trim(); rows].join(", "))
}

pub(crate) async fn begin(pool: &SqlitePool) -> Result<SqliteTx<'static>, StoreError> {
    pool.begin().await.map(SqliteTx).map_err(store_error)
}

pub(crate) async fn commit(tx: SqliteTx<'_>) -> Result<(), StoreError> {
    tx.0.commit().await.map_err(store_error)
}

pub async fn revisit_due(pool: &SqlitePool, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    let mut changed = 0;
    loop {
        let mut tx = begin(pool).await?;
        let done = roomlog_store_sql::revisit(&mut tx, settings, now).await?;
        commit(tx).await?;
        changed += done;
        if done < roomlog_store_sql::REVISIT_BATCH as u64 {
            return Ok(changed);
        }
    }
}

pub async fn rebuild(pool: &SqlitePool, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
    let rooms: Vec<(String, String)> =
        sqlx::query_as(statements::ROOMS_WITH_EVENTS).fetch_all(pool).await.map_err(store_error)?;
    let mut report = RebuildReport::default();
    for batch in rooms.chunks(200) {
        let mut tx = begin(pool).await?;
        for (account, room) in batch {
            report.events +=
                roomlog_store_sql::rebuild_room(&mut tx, &parse(account)?, &parse(room)?, settings, now).await?;
            report.rooms += 1;
        }
        commit(tx).await?;
    }
    Ok(report)
}

/// Retention (`Store::purge_before`): the shared statements, in one transaction.
pub async fn purge_before(pool: &SqlitePool, cutoff: Millis) -> Result<u64, StoreError> {
    let mut tx = begin(pool).await?;
    let mut rooms = 0;
    for sql in statements::PURGE {
        let done = sqlx::query(sql).bind(cutoff.secs()).execute(&mut *tx.0).await.map_err(store_error)?;
        rooms = done.rows_affected();
    }
    commit(tx).await?;
    Ok(rooms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_statement_is_widened_to_many_rows_before_its_conflict_clause() {
        let sql = super::many_rows("INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING", "ON CONFLICT", 3);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT DO NOTHING");
    }
}
