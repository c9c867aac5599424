//! The two kinds of object the client prints, their fields in Twilio's schema order, and how one
//! field becomes a cell of text.

use serde_json::Value;

/// Which resource a list holds; fixes the CSV columns and the table's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Room,
    Participant,
    /// A row of the usage answer (docs/behaviour.md §7.1).
    Usage,
}

/// Every field of a room summary, in Twilio's schema order.
pub const ROOM_FIELDS: &[&str] = &[
    "account_sid",
    "room_sid",
    "room_name",
    "create_time",
    "end_time",
    "room_type",
    "room_status",
    "status_callback",
    "status_callback_method",
    "created_method",
    "end_reason",
    "max_participants",
    "unique_participants",
    "unique_participant_identities",
    "concurrent_participants",
    "max_concurrent_participants",
    "codecs",
    "media_region",
    "duration_sec",
    "total_participant_duration_sec",
    "total_recording_duration_sec",
    "processing_state",
    "recording_enabled",
    "edge_location",
];

/// Every field of a participant summary, in Twilio's schema order.
pub const PARTICIPANT_FIELDS: &[&str] = &[
    "participant_sid",
    "participant_identity",
    "join_time",
    "leave_time",
    "duration_sec",
    "account_sid",
    "room_sid",
    "status",
    "codecs",
    "end_reason",
    "error_code",
    "error_code_url",
    "media_region",
    "properties",
    "edge_location",
    "publisher_info",
];

/// Every field of a usage row, in the order docs/behaviour.md §7.1 gives.
pub const USAGE_FIELDS: &[&str] = &[
    "start_date",
    "end_date",
    "rooms",
    "completed_rooms",
    "participant_sessions",
    "unique_identities",
    "participant_seconds",
    "participant_minutes",
    "room_seconds",
    "recording_seconds",
    "peak_concurrent_participants",
    "by_room_type",
];

impl Kind {
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Room => ROOM_FIELDS,
            Kind::Participant => PARTICIPANT_FIELDS,
            Kind::Usage => USAGE_FIELDS,
        }
    }
}

/// One CSV cell: empty for null, text as is, a list as its items joined by spaces (codecs),
/// an object as its JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(|i| i.is_string()) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
        }
        other => other.to_string(),
    }
}
