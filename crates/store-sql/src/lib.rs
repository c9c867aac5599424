//! What the SQL backends share, written once: the list queries (built with `?` placeholders and
//! renumbered for PostgreSQL), the write statements, and the ingest, revisit and rebuild
//! algorithms over a backend's transaction (`WriteTx`), the accounts' statements and row mapping.
//! Backends keep only their I/O.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod import;
pub mod jobs;
pub mod outbox;
mod queries;
pub mod usage;
mod writes;

pub use queries::{list_identity_sessions, list_participants, list_rooms, numbered, Arg, Query};
pub use writes::{append, append_many, rebuild_room, revisit, Destinations, DueRoom, WriteTx, REVISIT_BATCH};

/// Statements both dialects accept, with `?` placeholders (`numbered` turns them into `$n`).
pub mod statements {
    pub const INSERT_EVENT: &str =
        "INSERT INTO events (account_sid, event_id, room_sid, ts_ms, kind, source, body, raw, received_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    pub const ROOM_STATE: &str = "SELECT state FROM rooms WHERE account_sid = ? AND room_sid = ?";
    pub const UPSERT_ROOM: &str =
        "INSERT INTO rooms (account_sid, room_sid, create_time, room_name, room_type, codecs, revisit_ms, state, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_sid, room_sid) DO UPDATE SET
           create_time = excluded.create_time, room_name = excluded.room_name, room_type = excluded.room_type,
           codecs = excluded.codecs, revisit_ms = excluded.revisit_ms, state = excluded.state, summary = excluded.summary";
    pub const UPSERT_PARTICIPANT: &str =
        "INSERT INTO participants (account_sid, room_sid, participant_sid, join_time, identity, summary)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_sid, room_sid, participant_sid) DO UPDATE SET
           join_time = excluded.join_time, identity = excluded.identity, summary = excluded.summary";
    pub const DELETE_PARTICIPANTS: &str = "DELETE FROM participants WHERE account_sid = ? AND room_sid = ?";
    pub const DUE_ROOMS: &str =
        "SELECT account_sid, room_sid, state FROM rooms WHERE revisit_ms <= ? ORDER BY revisit_ms LIMIT ?";
    pub const ROOM_EVENTS: &str = "SELECT event_id, body FROM events WHERE account_sid = ? AND room_sid = ?";
    pub const ROOMS_WITH_EVENTS: &str =
        "SELECT DISTINCT account_sid, room_sid FROM events ORDER BY account_sid, room_sid";
    pub const ROOM: &str = "SELECT summary FROM rooms WHERE account_sid = ? AND room_sid = ?";
    pub const PARTICIPANT: &str =
        "SELECT summary FROM participants WHERE account_sid = ? AND room_sid = ? AND participant_sid = ?";
    /// Retention: a room created before the cut-off (whole seconds) goes with its participants,
    /// its usage and its events; run in this order, in one transaction.
    pub const PURGE: [&str; 4] = [
        "DELETE FROM participants WHERE (account_sid, room_sid) IN
           (SELECT account_sid, room_sid FROM rooms WHERE create_time < ?)",
        "DELETE FROM room_usage WHERE (account_sid, room_sid) IN
           (SELECT account_sid, room_sid FROM rooms WHERE create_time < ?)",
        "DELETE FROM events WHERE (account_sid, room_sid) IN
           (SELECT account_sid, room_sid FROM rooms WHERE create_time < ?)",
        "DELETE FROM rooms WHERE create_time < ?",
    ];
    pub const TOKEN_SECRET: &str = "SELECT value FROM settings WHERE key = 'token_key'";
}
