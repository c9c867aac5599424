//! How the dashboard writes values for people: UTC times, durations, codec lists, vocabulary.

use roomlog_core::vocab::{ParticipantStatus, ProcessingState, RoomStatus};
use roomlog_core::{Codec, Millis, RoomType};

/// Written when a value is unknown (`null` in the API).
pub const UNKNOWN: &str = "—";

/// `2025-10-27 18:00:01` (UTC, whole seconds, as the API gives them).
pub fn datetime(instant: Option<Millis>) -> String {
    instant.map_or_else(|| UNKNOWN.to_owned(), |m| m.to_api_string().replace('T', " ").trim_end_matches('Z').to_owned())
}

/// Slices of `YYYY-MM-DDTHH:MM:SSZ` for one Unix second.
fn api(secs: i64) -> String {
    Millis::from_secs(secs).to_api_string()
}

/// `18:00:01`.
pub fn clock(secs: i64) -> String {
    api(secs)[11..19].to_owned()
}

/// An axis label for a tick `step` seconds apart: seconds only when ticks are that close,
/// the date when they are a day or more apart.
pub fn tick_label(secs: i64, step: i64) -> String {
    let text = api(secs);
    match step {
        s if s < 60 => text[11..19].to_owned(),
        s if s < 86_400 => text[11..16].to_owned(),
        _ => text[5..10].to_owned(),
    }
}

/// `1h 02m 03s`, `4m 59s`, `59s`; unknown as a dash.
pub fn duration(seconds: Option<i64>) -> String {
    let Some(total) = seconds else { return UNKNOWN.to_owned() };
    let total = total.max(0);
    let (hours, minutes, secs) = (total / 3600, total % 3600 / 60, total % 60);
    match (hours, minutes) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m {secs:02}s"),
        (h, m) => format!("{h}h {m:02}m {secs:02}s"),
    }
}

pub fn codecs(codecs: &[Codec]) -> String {
    if codecs.is_empty() {
        return UNKNOWN.to_owned();
    }
    codecs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

pub fn room_type(room_type: Option<RoomType>) -> &'static str {
    match room_type {
        Some(RoomType::Go) => "Go",
        Some(RoomType::PeerToPeer) => "Peer-to-peer",
        Some(RoomType::Group) => "Group",
        Some(RoomType::GroupSmall) => "Small group",
        None => UNKNOWN,
    }
}

pub fn room_status(status: Option<RoomStatus>) -> &'static str {
    match status {
        Some(RoomStatus::InProgress) => "in progress",
        Some(RoomStatus::Completed) => "completed",
        None => UNKNOWN,
    }
}

pub fn participant_status(status: ParticipantStatus) -> &'static str {
    match status {
        ParticipantStatus::InProgress => "connected",
        ParticipantStatus::Completed => "left",
    }
}

pub fn processing_state(state: ProcessingState) -> &'static str {
    match state {
        ProcessingState::Complete => "complete",
        ProcessingState::InProgress => "in progress",
        ProcessingState::Timeout => "timed out",
        ProcessingState::NotStarted => "not started",
    }
}

/// Any other vocabulary value or free text, or the dash.
pub fn or_unknown(value: Option<impl ToString>) -> String {
    value.map_or_else(|| UNKNOWN.to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hours_minutes_seconds() {
        for (seconds, text) in [(Some(0), "0s"), (Some(59), "59s"), (Some(299), "4m 59s"), (Some(3723), "1h 02m 03s")] {
            assert_eq!(duration(seconds), text, "{seconds:?}");
        }
        assert_eq!(duration(None), UNKNOWN);
    }

    #[test]
    fn times_are_utc_without_the_api_punctuation() {
        let instant = Millis::parse_lenient("2025-10-27T18:00:01Z").unwrap();
        assert_eq!(datetime(Some(instant)), "2025-10-27 18:00:01");
        assert_eq!(clock(instant.secs()), "18:00:01");
        assert_eq!(tick_label(instant.secs(), 30), "18:00:01");
        assert_eq!(tick_label(instant.secs(), 300), "18:00");
        assert_eq!(tick_label(instant.secs(), 86_400), "10-27");
    }

    #[test]
    fn codec_lists_keep_enum_order_and_empty_is_a_dash() {
        assert_eq!(codecs(&[Codec::Vp8, Codec::Opus]), "VP8, opus");
        assert_eq!(codecs(&[]), UNKNOWN);
    }
}
