//! `RoomEvent`: the one normalised event every source (callbacks, JSON events, imports, other
//! SFUs) is turned into before it reaches the fold (docs/design.md, "The flow", docs/behaviour.md §4).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::sid::{AccountSid, ParticipantSid, RoomSid};
use crate::time::Millis;
use crate::vocab::{
    Codec, CreatedMethod, EdgeLocation, EventKind, HttpMethod, MediaRegion, ParticipantStatus, RoomEndReason,
    RoomStatus, RoomType, TrackKind,
};

/// One room event in snake_case: the status-callback parameter set plus the optional fields a
/// callback cannot carry (docs/behaviour.md §4.2). Other callback parameters (`container`,
/// `recording_uri`, `size`, …) are accepted and kept only in the raw record. Fields that only a participant event can carry
/// (`end_reason`, `error_code`, `media_region`, … on an event with a `participant_sid`) describe
/// that participant; on an event without one they describe the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomEvent {
    pub event: EventKind,
    pub timestamp: Millis,
    pub room_sid: RoomSid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_type: Option<RoomType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_status: Option<RoomStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub room_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_sid: Option<ParticipantSid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_status: Option<ParticipantStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub participant_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_kind: Option<TrackKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sid: Option<String>,
    /// `None` both when absent and for source codecs the API has no value for (`PCMU`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "source_codec")]
    pub codec: Option<Codec>,
    /// Further codecs of the same track (a simulcast track's backup codecs, docs/behaviour.md §4.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<Codec>,
    /// When the room was created, as a source that sends it on any event knows it (LiveKit's
    /// `room.creationTime`): the room's `create_time` is the earliest such instant or
    /// `room-created` timestamp (docs/behaviour.md §4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Millis>,
    /// When the event's participant joined, as a source that repeats it on later events knows it
    /// (LiveKit's `participant.joinedAt`): its `join_time` is the earliest such instant or
    /// `participant-connected` timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_time: Option<Millis>,
    /// Recording length in seconds (`recording-completed`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub sequence_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_region: Option<MediaRegion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_location: Option<EdgeLocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_method: Option<CreatedMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_method: Option<HttpMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub max_participants: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub max_concurrent_participants: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_bool")]
    pub recording_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_int")]
    pub error_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_info: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
}

/// Why an event cannot be accepted, in words a sender can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

impl RoomEvent {
    /// Checks what types alone cannot: which fields an event kind needs, and value ranges.
    pub fn validate(&self) -> Result<(), EventError> {
        let need = |present: bool, field: &str| {
            if present {
                Ok(())
            } else {
                Err(EventError(format!("{field} is required for {}", self.event)))
            }
        };
        if self.event.is_participant_event() {
            need(self.participant_sid.is_some(), "participant_sid")?;
        }
        if self.event.as_str().starts_with("recording-") {
            need(self.recording_sid.is_some(), "recording_sid")?;
        }
        if self.event.as_str().starts_with("track-") {
            need(self.track_sid.is_some(), "track_sid")?;
        }
        if self.participant_sid.is_none() {
            if let Some(reason) = &self.end_reason {
                reason.parse::<RoomEndReason>().map_err(|e| EventError(format!("end_reason: {e}")))?;
            }
        }
        for (name, value) in [
            ("room_duration", self.room_duration),
            ("participant_duration", self.participant_duration),
            ("duration", self.duration),
            ("max_participants", self.max_participants),
            ("max_concurrent_participants", self.max_concurrent_participants),
        ] {
            if value.is_some_and(|v| !(0..=i64::from(i32::MAX)).contains(&v)) {
                return Err(EventError(format!("{name} must be between 0 and {}", i32::MAX)));
            }
        }
        for (name, value) in [
            ("room_name", &self.room_name),
            ("participant_identity", &self.participant_identity),
            ("track_sid", &self.track_sid),
            ("track_name", &self.track_name),
            ("recording_sid", &self.recording_sid),
            ("source_sid", &self.source_sid),
            ("status_callback", &self.status_callback),
            ("end_reason", &self.end_reason),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > 1024) {
                return Err(EventError(format!("{name} is longer than 1024 bytes")));
            }
        }
        for (name, value) in [("publisher_info", &self.publisher_info), ("properties", &self.properties)] {
            if value.as_ref().is_some_and(|v| !v.is_object() && !v.is_null()) {
                return Err(EventError(format!("{name} must be a JSON object")));
            }
        }
        Ok(())
    }

    /// The identity of an event without an `event_id`: a digest of its account and normalised
    /// fields, so a source repeating itself is recognised as a duplicate (docs/behaviour.md §4.3).
    pub fn digest(&self, account: &AccountSid) -> String {
        let mut hasher = Sha256::new();
        hasher.update(account.as_str());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(self).unwrap_or_default());
        format!("sha256:{}", hex::encode(&hasher.finalize()[..20]))
    }
}

/// An event with the account it belongs to and its identity, ready to be stored and folded.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountEvent {
    pub account_sid: AccountSid,
    pub event_id: String,
    pub event: RoomEvent,
    /// Where it came from: `json`, `callback`, `import`, …
    pub source: &'static str,
    /// The record as the source sent it, as JSON text: the JSON object exactly as received,
    /// callback parameters as an object of strings.
    pub raw: String,
    /// For a Twilio callback: what is passed on to the account's forward targets when the event
    /// is new (docs/behaviour.md §6.1).
    pub relay: Option<Relay>,
}

/// A callback as it is forwarded: its parameters form-encoded, and its idempotency token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub form: String,
    pub idempotency_token: Option<String>,
}

impl AccountEvent {
    pub fn new(
        account_sid: AccountSid,
        event_id: Option<String>,
        event: RoomEvent,
        source: &'static str,
        raw: String,
    ) -> Self {
        let event_id = event_id.unwrap_or_else(|| event.digest(&account_sid));
        AccountEvent { account_sid, event_id, event, source, raw, relay: None }
    }

    pub fn with_relay(self, relay: Relay) -> AccountEvent {
        AccountEvent { relay: Some(relay), ..self }
    }

    /// What makes two events one (docs/behaviour.md §4.2 "Idempotent"): the `event_id` within its
    /// account's room. A digest covers the room already; a caller's `event_id` is scoped to the
    /// room so that a room's events, and their identities, are stored together.
    pub fn identity(&self) -> (&AccountSid, &RoomSid, &str) {
        (&self.account_sid, &self.event.room_sid, &self.event_id)
    }
}

/// An integer as a JSON number or a numeric string.
pub(crate) fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{n} is not an integer"))),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer")))
        }
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not an integer"))),
    }
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not a boolean"))),
    }
}

fn source_codec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Codec>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(text) => Codec::from_source(&text).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<RoomEvent, String> {
        serde_json::from_value::<RoomEvent>(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_json_event_with_either_spelling_parses_into_the_schema_vocabulary() {
        let event = parse(json!({
            "event": "participant-connected", "timestamp": "2025-10-27T18:16:01.876Z",
            "room_sid": "RM0123456789abcdef0123456789abcdef", "room_type": "group-small",
            "participant_sid": "PA0123456789abcdef0123456789abcdef", "participant_duration": "12",
        }))
        .unwrap();
        assert_eq!(event.room_type, Some(RoomType::GroupSmall));
        assert_eq!(event.participant_duration, Some(12));
        assert_eq!(event.timestamp.to_rfc3339_millis(), "2025-10-27T18:16:01.876Z");
        event.validate().unwrap();
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named_in_the_error() {
        let base = json!({"event": "room-created", "timestamp": "2025-10-27T18:16:01Z",
                          "room_sid": "RM0123456789abcdef0123456789abcdef"});
        for (field, value) in [
            ("room_type", json!("huge")),
            ("codec", json!("AV1")),
            ("room_sid", json!("RM1")),
            ("max_participants", json!("many")),
        ] {
            let mut event = base.clone();
            event[field] = value;
            let error = parse(event).unwrap_err();
            assert!(!error.is_empty(), "{field}");
        }
    }

    #[test]
    fn participant_events_need_a_participant_sid() {
        let event = parse(json!({"event": "participant-connected", "timestamp": "2025-10-27T18:16:01Z",
                                 "room_sid": "RM0123456789abcdef0123456789abcdef"}))
        .unwrap();
        assert!(event.validate().unwrap_err().0.contains("participant_sid"));
    }

    #[test]
    fn the_digest_depends_on_account_and_content_only() {
        let event = parse(json!({"event": "room-created", "timestamp": "2025-10-27T18:16:01Z",
                                 "room_sid": "RM0123456789abcdef0123456789abcdef"}))
        .unwrap();
        let a = AccountSid::generate();
        let b = AccountSid::generate();
        assert_eq!(event.digest(&a), event.clone().digest(&a));
        assert_ne!(event.digest(&a), event.digest(&b));
    }
}
