//! SQLite's side of `roomlog-store-sql`'s import: one transaction on the writer connection.

use roomlog_core::fold::update::ParticipantRow;
use roomlog_core::{AccountSid, Checkpoint, ImportOutcome, ImportedRoom, Millis, RoomSid, StoreError};
use roomlog_store_sql::import::{statements as import_sql, ImportTx, ImportedRow};
use roomlog_store_sql::statements;
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::store_error;

struct SqliteImport<'c>(Transaction<'c, Sqlite>);

impl ImportTx for SqliteImport<'_> {
    async fn import_room(&mut self, account: &AccountSid, row: &ImportedRow) -> Result<bool, StoreError> {
        let done = sqlx::query(import_sql::IMPORT_ROOM)
            .bind(account.as_str())
            .bind(row.room_sid.as_str())
            .bind(row.create_time_secs)
            .bind(row.room_name.as_deref())
            .bind(row.room_type)
            .bind(row.codecs)
            .bind(&row.json.0)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace_participants(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        rows: &[ParticipantRow],
    ) -> Result<(), StoreError> {
        sqlx::query(statements::DELETE_PARTICIPANTS)
            .bind(account.as_str())
            .bind(room.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        for participant in rows {
            sqlx::query(statements::UPSERT_PARTICIPANT)
                .bind(account.as_str())
                .bind(room.as_str())
                .bind(&participant.participant_sid)
                .bind(participant.join_time_secs)
                .bind(&participant.json.0)
                .execute(&mut *self.0)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    async fn save_checkpoint(&mut self, checkpoint: &Checkpoint, now: Millis) -> Result<(), StoreError> {
        sqlx::query(import_sql::SAVE_CHECKPOINT)
            .bind(&checkpoint.key)
            .bind(&checkpoint.value)
            .bind(now.0)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

pub async fn import_rooms(
    pool: &SqlitePool,
    account: &AccountSid,
    rooms: &[ImportedRoom],
    checkpoint: Option<&Checkpoint>,
) -> Result<ImportOutcome, StoreError> {
    let mut tx = SqliteImport(pool.begin().await.map_err(store_error)?);
    let outcome = roomlog_store_sql::import::import_rooms(&mut tx, account, rooms, checkpoint).await?;
    tx.0.commit().await.map_err(store_error)?;
    Ok(outcome)
}

pub async fn checkpoint(pool: &SqlitePool, key: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(import_sql::CHECKPOINT).bind(key).fetch_optional(pool).await.map_err(store_error)
}
