//! What each room adds to the usage answer (docs/behaviour.md §7.1), for both SQL backends: one
//! `room_usage` row per room, replaced in the transaction that writes the room's summary, so it
//! is always what the current summaries say, whatever order the events came in.

use roomlog_core::usage::RoomUsage;
use roomlog_core::{RoomType, StoreError};

pub mod statements {
    /// Binds account, room, then `UsageRow::values` in order.
    pub const UPSERT_ROOM_USAGE: &str = "INSERT INTO room_usage (account_sid, room_sid, day, room_type, completed,
           sessions, participant_seconds, participant_minutes, room_seconds, recording_seconds, peak, identities)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_sid, room_sid) DO UPDATE SET day = excluded.day, room_type = excluded.room_type,
           completed = excluded.completed, sessions = excluded.sessions,
           participant_seconds = excluded.participant_seconds, participant_minutes = excluded.participant_minutes,
           room_seconds = excluded.room_seconds, recording_seconds = excluded.recording_seconds,
           peak = excluded.peak, identities = excluded.identities";
    /// Binds account, first day, last day (day numbers, inclusive).
    pub const ROOM_USAGE_IN_DAYS: &str = "SELECT day, room_type, completed, sessions, participant_seconds,
           participant_minutes, room_seconds, recording_seconds, peak, identities
         FROM room_usage WHERE account_sid = ? AND day >= ? AND day <= ?";
}

/// A `room_usage` row's columns after the keys.
pub struct UsageRow {
    pub day: i64,
    pub room_type: Option<&'static str>,
    pub counts: [i64; 7],
    pub identities: String,
}

impl UsageRow {
    pub fn of(usage: &RoomUsage) -> UsageRow {
        UsageRow {
            day: usage.day,
            room_type: usage.room_type.map(RoomType::as_str),
            counts: [
                i64::from(usage.completed),
                usage.sessions,
                usage.participant_seconds,
                usage.participant_minutes,
                usage.room_seconds,
                usage.recording_seconds,
                usage.peak,
            ],
            identities: serde_json::to_string(&usage.identities).unwrap_or_else(|_| "[]".to_owned()),
        }
    }
}

/// A row as read back by `ROOM_USAGE_IN_DAYS`.
pub fn room_usage(
    day: i64,
    room_type: Option<String>,
    counts: [i64; 7],
    identities: &str,
) -> Result<RoomUsage, StoreError> {
    let [completed, sessions, participant_seconds, participant_minutes, room_seconds, recording_seconds, peak] = counts;
    Ok(RoomUsage {
        day,
        room_type: room_type.map(|t| t.parse()).transpose().map_err(|e| StoreError::Other(Box::new(e)))?,
        completed: completed != 0,
        sessions,
        participant_seconds,
        participant_minutes,
        room_seconds,
        recording_seconds,
        peak,
        identities: serde_json::from_str(identities).map_err(|e| StoreError::Other(Box::new(e)))?,
    })
}
