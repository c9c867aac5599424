//! PostgreSQL's side of `roomlog-store-sql`'s import, in a transaction retried on contention.

use roomlog_core::fold::update::ParticipantRow;
use roomlog_core::usage::RoomUsage;
use roomlog_core::{AccountSid, Checkpoint, ImportOutcome, ImportedRoom, Millis, RoomSid, StoreError};
use roomlog_store_sql::import::{statements as import_sql, ImportTx, ImportedRow};
use roomlog_store_sql::{numbered, statements};
use sqlx::PgPool;

use crate::store_error;
use crate::writes::{in_transaction, PgTx};

/// The statements, renumbered for PostgreSQL once.
struct Statements {
    import_room: String,
    delete_participants: String,
    upsert_participant: String,
    save_checkpoint: String,
    checkpoint: String,
}

fn statements() -> &'static Statements {
    static STATEMENTS: std::sync::OnceLock<Statements> = std::sync::OnceLock::new();
    STATEMENTS.get_or_init(|| Statements {
        import_room: numbered(import_sql::IMPORT_ROOM),
        delete_participants: numbered(statements::DELETE_PARTICIPANTS),
        upsert_participant: numbered(statements::UPSERT_PARTICIPANT),
        save_checkpoint: numbered(import_sql::SAVE_CHECKPOINT),
        checkpoint: numbered(import_sql::CHECKPOINT),
    })
}

impl ImportTx for PgTx {
    async fn import_room(&mut self, account: &AccountSid, row: &ImportedRow) -> Result<bool, StoreError> {
        let done = sqlx::query(&statements().import_room)
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
        let s = statements();
        sqlx::query(&s.delete_participants)
            .bind(account.as_str())
            .bind(room.as_str())
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        for participant in rows {
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
        Ok(())
    }

    async fn write_usage(&mut self, account: &AccountSid, room: &RoomSid, usage: &RoomUsage) -> Result<(), StoreError> {
        self.upsert_usage(account, room, usage).await
    }

    async fn save_checkpoint(&mut self, checkpoint: &Checkpoint, now: Millis) -> Result<(), StoreError> {
        sqlx::query(&statements().save_checkpoint)
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
    pool: &PgPool,
    account: &AccountSid,
    rooms: &[ImportedRoom],
    checkpoint: Option<&Checkpoint>,
) -> Result<ImportOutcome, StoreError> {
    in_transaction(pool, |mut tx| async move {
        let result = roomlog_store_sql::import::import_rooms(&mut tx, account, rooms, checkpoint).await;
        (tx, result)
    })
    .await
}

pub async fn checkpoint(pool: &PgPool, key: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(&statements().checkpoint).bind(key).fetch_optional(pool).await.map_err(store_error)
}
