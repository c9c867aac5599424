//! Where a room's events came from, read off its raw records: the sources and their counts,
//! and for a room fed by LiveKit its original room and participant SIDs and its aborted
//! connections (docs/behaviour.md §4.4).

use std::collections::{BTreeMap, HashMap};

use roomlog_core::source::livekit_webhook::{participant_sid, Webhook};
use roomlog_core::store::RawEvent;
use roomlog_core::EventKind;

/// The most raw records one room page reads.
pub const MOST_EVENTS: u32 = 20_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Source name (`livekit`, `callback`, …) → events.
    pub sources: BTreeMap<String, u64>,
    pub livekit_room_sid: Option<String>,
    /// roomlog participant SID → LiveKit participant SID.
    pub livekit_participants: HashMap<String, String>,
    pub aborted_connections: u64,
    /// Whether `MOST_EVENTS` cut the reading short.
    pub partial: bool,
}

impl Provenance {
    pub fn of(events: &[RawEvent]) -> Provenance {
        let mut found = Provenance { partial: events.len() >= MOST_EVENTS as usize, ..Provenance::default() };
        for event in events {
            *found.sources.entry(event.source.clone()).or_default() += 1;
            if event.kind == EventKind::ParticipantConnectionAborted.as_str() {
                found.aborted_connections += 1;
            }
            if event.source != "livekit" {
                continue;
            }
            let Ok(webhook) = Webhook::parse(event.raw.as_bytes()) else { continue };
            if found.livekit_room_sid.is_none() {
                found.livekit_room_sid = webhook.livekit_room_sid().map(str::to_owned);
            }
            if let Some(sid) = webhook.participant.and_then(|p| p.sid).filter(|s| !s.is_empty()) {
                found.livekit_participants.insert(participant_sid(&sid).to_string(), sid);
            }
        }
        found
    }

    pub fn fed_by_livekit(&self) -> bool {
        self.sources.contains_key("livekit")
    }

    /// The sources in words, with their counts: "LiveKit webhooks (17 events)".
    pub fn describe(&self) -> String {
        if self.sources.is_empty() {
            return "imported summary (no events stored)".to_owned();
        }
        let words: Vec<String> = self
            .sources
            .iter()
            .map(|(source, count)| {
                let name = match source.as_str() {
                    "livekit" => "LiveKit webhooks",
                    "callback" => "Twilio status callbacks",
                    "json" => "JSON events",
                    other => other,
                };
                let plural = if *count == 1 { "" } else { "s" };
                format!("{name} ({count}{} event{plural})", if self.partial { "+" } else { "" })
            })
            .collect();
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roomlog_core::Millis;

    fn raw(kind: &str, source: &str, body: &str) -> RawEvent {
        RawEvent {
            event_id: "e".into(),
            kind: kind.into(),
            source: source.into(),
            timestamp: Millis(0),
            raw: body.into(),
        }
    }

    #[test]
    fn livekit_sids_and_aborted_connections_are_read_from_the_raw_records() {
        let events = [
            raw("room-created", "livekit", r#"{"event":"room_started","room":{"sid":"RM_lk"}}"#),
            raw(
                "participant-connected",
                "livekit",
                r#"{"event":"participant_joined","room":{"sid":"RM_lk"},"participant":{"sid":"PA_lk"}}"#,
            ),
            raw("participant-connection-aborted", "livekit", r#"{"event":"participant_connection_aborted"}"#),
            raw("room-ended", "json", "{}"),
        ];
        let found = Provenance::of(&events);
        assert_eq!(found.livekit_room_sid.as_deref(), Some("RM_lk"));
        assert_eq!(
            found.livekit_participants.get(participant_sid("PA_lk").as_str()).map(String::as_str),
            Some("PA_lk")
        );
        assert_eq!(found.aborted_connections, 1);
        assert!(found.fed_by_livekit());
        assert_eq!(found.describe(), "JSON events (1 event), LiveKit webhooks (3 events)");
    }

    #[test]
    fn a_room_without_events_is_an_imported_summary() {
        assert_eq!(Provenance::of(&[]).describe(), "imported summary (no events stored)");
    }
}
