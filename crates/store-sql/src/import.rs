//! Imported rooms (`roomlog import`): archived summaries written as they were served upstream,
//! with the importer's checkpoint in the same transaction, so a run stopped at any point resumes
//! with neither gaps nor duplicates.
//!
//! An imported row is marked `imported` and carries no fold state (`state` holds
//! `IMPORTED_STATE`): there are no events to fold. Ingest and rebuild leave such a room alone,
//! and an import never replaces a room that is folded from events here.

use roomlog_core::fold::update::{participant_row, ParticipantRow};
use roomlog_core::usage::RoomUsage;
use roomlog_core::{
    AccountSid, Checkpoint, CodecSet, ImportOutcome, ImportedRoom, Millis, RoomSid, StoreError, StoredJson,
};

/// The `state` of an imported room, in place of a fold state.
pub const IMPORTED_STATE: &str = "imported";

/// Statements both dialects accept, with `?` placeholders.
pub mod statements {
    /// Inserts or replaces an imported room, but never a room folded from events (the
    /// `WHERE` makes the conflict a no-op, reported as zero rows).
    pub const IMPORT_ROOM: &str =
        "INSERT INTO rooms (account_sid, room_sid, create_time, room_name, room_type, codecs, revisit_ms, state, summary, imported)
         VALUES (?, ?, ?, ?, ?, ?, NULL, 'imported', ?, TRUE)
         ON CONFLICT (account_sid, room_sid) DO UPDATE SET
           create_time = excluded.create_time, room_name = excluded.room_name, room_type = excluded.room_type,
           codecs = excluded.codecs, summary = excluded.summary
         WHERE rooms.imported";
    pub const SAVE_CHECKPOINT: &str = "INSERT INTO import_checkpoints (key, value, updated_ms) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms";
    pub const CHECKPOINT: &str = "SELECT value FROM import_checkpoints WHERE key = ?";
}

/// The columns of an imported room row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRow {
    pub room_sid: RoomSid,
    pub create_time_secs: i64,
    pub room_name: Option<String>,
    pub room_type: Option<&'static str>,
    pub codecs: i64,
    pub json: StoredJson,
}

/// The I/O a backend provides inside one import transaction.
#[allow(async_fn_in_trait)]
pub trait ImportTx {
    /// Writes the room unless it is folded from events here; `false` when it was left alone.
    async fn import_room(&mut self, account: &AccountSid, row: &ImportedRow) -> Result<bool, StoreError>;
    /// Replaces every participant of the room with `rows`.
    async fn replace_participants(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        rows: &[ParticipantRow],
    ) -> Result<(), StoreError>;
    /// Replaces what the room adds to the usage answer.
    async fn write_usage(&mut self, account: &AccountSid, room: &RoomSid, usage: &RoomUsage) -> Result<(), StoreError>;
    async fn save_checkpoint(&mut self, checkpoint: &Checkpoint, now: Millis) -> Result<(), StoreError>;
}

/// Writes `rooms` under `account` and then the checkpoint.
pub async fn import_rooms<T: ImportTx>(
    tx: &mut T,
    account: &AccountSid,
    rooms: &[ImportedRoom],
    checkpoint: Option<&Checkpoint>,
) -> Result<ImportOutcome, StoreError> {
    let mut outcome = ImportOutcome::default();
    for imported in rooms {
        let mut room = imported.room.clone();
        room.account_sid = account.clone();
        let row = ImportedRow {
            room_sid: room.room_sid.clone(),
            create_time_secs: room.create_time.map_or(0, Millis::secs),
            room_name: room.room_name.clone(),
            room_type: room.room_type.map(|t| t.as_str()),
            codecs: i64::from(room.codecs.iter().copied().collect::<CodecSet>().0),
            json: StoredJson::of(&room),
        };
        if !tx.import_room(account, &row).await? {
            outcome.skipped += 1;
            continue;
        }
        let participants: Vec<ParticipantRow> = imported
            .participants
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.account_sid = account.clone();
                p.room_sid = room.room_sid.clone();
                participant_row(&p)
            })
            .collect();
        tx.replace_participants(account, &row.room_sid, &participants).await?;
        tx.write_usage(account, &row.room_sid, &RoomUsage::of(&room, &imported.participants)).await?;
        outcome.rooms += 1;
        outcome.participants += participants.len() as u64;
    }
    if let Some(checkpoint) = checkpoint {
        tx.save_checkpoint(checkpoint, Millis::now()).await?;
    }
    Ok(outcome)
}
