//! LiveKit webhooks (docs/behaviour.md §4.4): one `WebhookEvent` in protobuf's JSON form, mapped
//! into the one `RoomEvent`. Pure: the signature is checked by the HTTP layer before this runs.
//!
//! Protobuf JSON leaves out every field at its zero value, enums included, so an absent key
//! means the zero value (`AUDIO`, a `STANDARD` participant, `UNKNOWN_REASON`); 64-bit integers
//! come as strings, and both strings and numbers are read.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::event::{EventError, RoomEvent};
use crate::sid::{ParticipantSid, RoomSid};
use crate::time::Millis;
use crate::vocab::{Codec, EventKind};

/// A webhook body as LiveKit's server sends it. Unknown keys are ignored here and kept in the
/// raw record by the caller.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Webhook {
    pub event: String,
    pub id: Option<String>,
    #[serde(deserialize_with = "int64")]
    pub created_at: Option<i64>,
    pub room: Option<Room>,
    pub participant: Option<Participant>,
    pub track: Option<Track>,
    pub egress_info: Option<Egress>,
    pub ingress_info: Option<Ingress>,
    #[serde(deserialize_with = "room_end_reason_name")]
    pub room_end_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Room {
    pub sid: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "int64")]
    pub max_participants: Option<i64>,
    #[serde(deserialize_with = "int64")]
    pub creation_time: Option<i64>,
    #[serde(deserialize_with = "int64")]
    pub creation_time_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Participant {
    pub sid: Option<String>,
    pub identity: Option<String>,
    #[serde(deserialize_with = "int64")]
    pub joined_at: Option<i64>,
    #[serde(deserialize_with = "int64")]
    pub joined_at_ms: Option<i64>,
    #[serde(deserialize_with = "participant_kind")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "disconnect_reason")]
    pub disconnect_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Track {
    pub sid: Option<String>,
    #[serde(rename = "type", deserialize_with = "track_type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub mime_type: Option<String>,
    pub codecs: Vec<SimulcastCodec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SimulcastCodec {
    pub mime_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Egress {
    pub egress_id: Option<String>,
    pub room_id: Option<String>,
    pub room_name: Option<String>,
    pub file_results: Vec<EgressFile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EgressFile {
    /// Nanoseconds.
    #[serde(deserialize_with = "int64")]
    pub duration: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Ingress {
    pub room_name: Option<String>,
    pub state: Option<IngressState>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressState {
    pub room_id: Option<String>,
}

/// Enum numbers, for senders that write them instead of names (protobuf JSON parsers accept
/// both); only the enums the mapping reads.
const TRACK_TYPES: &[&str] = &["AUDIO", "VIDEO", "DATA"];
const PARTICIPANT_KINDS: &[&str] = &["STANDARD", "INGRESS", "EGRESS", "SIP", "AGENT", "5", "6", "CONNECTOR", "BRIDGE"];
const ROOM_END_REASONS: &[&str] = &[
    "ROOM_END_UNKNOWN",
    "ROOM_END_API_DELETE",
    "ROOM_END_IDLE_TIMEOUT",
    "ROOM_END_SERVER_SHUTDOWN",
    "ROOM_END_SUPERSEDED",
    "ROOM_END_OPEN_FAILED",
];
const DISCONNECT_REASONS: &[&str] = &[
    "UNKNOWN_REASON",
    "CLIENT_INITIATED",
    "DUPLICATE_IDENTITY",
    "SERVER_SHUTDOWN",
    "PARTICIPANT_REMOVED",
    "ROOM_DELETED",
    "STATE_MISMATCH",
    "JOIN_FAILURE",
    "MIGRATION",
    "SIGNAL_CLOSE",
    "ROOM_CLOSED",
    "USER_UNAVAILABLE",
    "USER_REJECTED",
    "SIP_TRUNK_FAILURE",
    "CONNECTION_TIMEOUT",
    "MEDIA_FAILURE",
    "AGENT_ERROR",
];

/// The first 32 lower-case hex digits of SHA-256 of `text`: how LiveKit's SIDs become the
/// fixed-width SIDs the Insights API serves.
pub fn hex32(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// The roomlog room SID of a LiveKit room SID (`RM_…`).
pub fn room_sid(livekit_sid: &str) -> RoomSid {
    format!("RM{}", hex32(livekit_sid)).parse().expect("RM + 32 hex digits is a room SID")
}

/// The roomlog participant SID of a LiveKit participant SID (`PA_…`).
pub fn participant_sid(livekit_sid: &str) -> ParticipantSid {
    format!("PA{}", hex32(livekit_sid)).parse().expect("PA + 32 hex digits is a participant SID")
}

/// The codec a LiveKit MIME type names, if the API has a value for it.
pub fn codec(mime_type: &str) -> Option<Codec> {
    match mime_type.to_ascii_lowercase().as_str() {
        "video/vp8" => Some(Codec::Vp8),
        "video/h264" => Some(Codec::H264),
        "video/vp9" => Some(Codec::Vp9),
        "audio/opus" | "audio/red" => Some(Codec::Opus),
        _ => None,
    }
}

impl Webhook {
    /// Reads a body; only malformed JSON (or a field of the wrong type) fails.
    pub fn parse(body: &[u8]) -> Result<Webhook, EventError> {
        serde_json::from_slice(body).map_err(|e| EventError(format!("Invalid LiveKit webhook body: {e}")))
    }

    /// The room the event belongs to, or `None` for one that belongs to no room (a web egress,
    /// an event type without a room).
    pub fn livekit_room_sid(&self) -> Option<&str> {
        let egress = self.egress_info.as_ref().and_then(|e| e.room_id.as_deref());
        let ingress = self.ingress_info.as_ref().and_then(|i| i.state.as_ref()?.room_id.as_deref());
        let room = self.room.as_ref().and_then(|r| r.sid.as_deref());
        if self.event.starts_with("egress_") { egress } else { room.or(ingress) }.filter(|sid| !sid.is_empty())
    }

    /// Maps the webhook into a room event, or `None` when it belongs to no room. `received`
    /// stands in for a missing `createdAt`.
    pub fn to_event(&self, received: Millis) -> Result<Option<RoomEvent>, EventError> {
        if self.event.is_empty() {
            return Err(EventError("event is required".into()));
        }
        let Some(livekit_room) = self.livekit_room_sid() else {
            return match self.event.as_str() {
                "room_started" | "room_finished" | "participant_joined" | "participant_left" | "track_published"
                | "track_unpublished" => Err(EventError(format!("room.sid is required for {}", self.event))),
                _ => Ok(None),
            };
        };
        let sent = self.created_at.filter(|s| *s > 0).map_or(received, |s| Millis(s.saturating_mul(1000)));
        let created = self.room.as_ref().and_then(Room::created);
        let joined = self.participant.as_ref().and_then(Participant::joined);
        let recorder = self.participant.as_ref().is_some_and(|p| p.kind.as_deref() == Some("EGRESS"));
        let (kind, timestamp) = match self.event.as_str() {
            "room_started" => (EventKind::RoomCreated, created.unwrap_or(sent)),
            "room_finished" => (EventKind::RoomEnded, sent),
            "participant_joined" | "participant_left" | "track_published" | "track_unpublished" if recorder => {
                (EventKind::Other, sent)
            }
            "participant_joined" => (EventKind::ParticipantConnected, joined.unwrap_or(sent)),
            "participant_left" => (EventKind::ParticipantDisconnected, sent),
            "participant_connection_aborted" => (EventKind::ParticipantConnectionAborted, sent),
            "track_published" => (EventKind::TrackAdded, sent),
            "track_unpublished" => (EventKind::TrackRemoved, sent),
            "egress_started" | "egress_updated" => (EventKind::RecordingStarted, sent),
            "egress_ended" => (EventKind::RecordingCompleted, sent),
            _ => (EventKind::Other, sent),
        };
        let mut fields = Map::new();
        let mut set = |key: &str, value: Value| {
            fields.insert(key.to_owned(), value);
        };
        set("event", kind.as_str().into());
        set("timestamp", timestamp.to_rfc3339_millis().into());
        set("room_sid", room_sid(livekit_room).as_str().into());
        set("room_type", "group".into());
        let room_name = match self.event.starts_with("egress_") {
            true => self.egress_info.as_ref().and_then(|e| e.room_name.clone()),
            false => self.room.as_ref().and_then(|r| r.name.clone()),
        };
        if let Some(name) = room_name.filter(|n| !n.is_empty()) {
            set("room_name", name.into());
        }
        if let Some(room) = &self.room {
            if let Some(max) = room.max_participants.filter(|m| *m > 0) {
                set("max_participants", max.into());
            }
        }
        if let Some(created) = created {
            set("create_time", created.to_rfc3339_millis().into());
        }
        if kind == EventKind::RoomEnded {
            if let Some(reason) = self.room_end_reason.as_deref().and_then(room_end_reason) {
                set("end_reason", reason.into());
            }
        }
        if let Some(participant) = self.participant.as_ref().filter(|_| kind != EventKind::Other) {
            if let Some(sid) = participant.sid.as_deref().filter(|s| !s.is_empty()) {
                set("participant_sid", participant_sid(sid).as_str().into());
            }
            if let Some(identity) = participant.identity.as_deref().filter(|i| !i.is_empty()) {
                set("participant_identity", identity.into());
            }
            if let Some(joined) = joined {
                set("join_time", joined.to_rfc3339_millis().into());
            }
            if kind == EventKind::ParticipantDisconnected {
                if let Some(reason) = participant.disconnect_reason.as_deref().filter(|r| *r != "UNKNOWN_REASON") {
                    set("end_reason", reason.to_ascii_lowercase().into());
                }
            }
        }
        if let Some(track) = self.track.as_ref().filter(|_| kind.is_participant_event()) {
            if let Some(sid) = track.sid.as_deref().filter(|s| !s.is_empty()) {
                set("track_sid", sid.into());
            }
            if let Some(name) = track.name.as_deref().filter(|n| !n.is_empty()) {
                set("track_name", name.into());
            }
            let kind = match track.kind.as_deref() {
                None | Some("AUDIO") => Some("audio"),
                Some("VIDEO") => Some("video"),
                Some("DATA") => Some("data"),
                Some(_) => None,
            };
            if let Some(kind) = kind {
                set("track_kind", kind.into());
            }
            let mimes = track.mime_type.iter().chain(track.codecs.iter().filter_map(|c| c.mime_type.as_ref()));
            let mut found: Vec<Codec> = mimes.filter_map(|mime| codec(mime)).collect();
            found.sort();
            found.dedup();
            if let Some((first, rest)) = found.split_first() {
                set("codec", first.as_str().into());
                if !rest.is_empty() {
                    set("codecs", rest.iter().map(|c| Value::from(c.as_str())).collect());
                }
            }
        }
        if let Some(egress) = self.egress_info.as_ref().filter(|_| self.event.starts_with("egress_")) {
            let id = egress.egress_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(livekit_room);
            set("recording_sid", id.into());
            set("recording_enabled", true.into());
            if kind == EventKind::RecordingCompleted {
                let nanos: i64 =
                    egress.file_results.iter().filter_map(|f| f.duration).map(|d| d.max(0) / 1_000_000_000).sum();
                set("duration", nanos.min(i64::from(i32::MAX)).into());
            }
        }
        let event: RoomEvent = serde_json::from_value(Value::Object(fields)).map_err(|e| EventError(e.to_string()))?;
        event.validate()?;
        Ok(Some(event))
    }
}

impl Room {
    fn created(&self) -> Option<Millis> {
        let ms = self.creation_time_ms.filter(|m| *m > 0);
        ms.or_else(|| self.creation_time.filter(|s| *s > 0).map(|s| s.saturating_mul(1000))).map(Millis)
    }
}

impl Participant {
    fn joined(&self) -> Option<Millis> {
        let ms = self.joined_at_ms.filter(|m| *m > 0);
        ms.or_else(|| self.joined_at.filter(|s| *s > 0).map(|s| s.saturating_mul(1000))).map(Millis)
    }
}

/// LiveKit's room end reasons the API has a value for; the others leave `end_reason` null.
fn room_end_reason(reason: &str) -> Option<&'static str> {
    match reason {
        "ROOM_END_API_DELETE" => Some("room_ended_via_api"),
        "ROOM_END_IDLE_TIMEOUT" => Some("timeout"),
        _ => None,
    }
}

/// A protobuf 64-bit integer: a string, or a number from senders that write one (the same
/// reading as a JSON event's integers).
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    crate::event::lenient_int(d)
}

/// A protobuf enum: its name, or its number turned into its name from `names` (a number the
/// table does not know stays a number, which no mapping rule matches).
fn enum_in<'de, D: Deserializer<'de>>(d: D, names: &[&str]) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => {
            let named = n.as_u64().and_then(|i| names.get(usize::try_from(i).ok()?));
            Ok(Some(named.map_or_else(|| n.to_string(), |name| (*name).to_owned())))
        }
        Some(other) => Err(serde::de::Error::custom(format!("{other} is not an enum value"))),
    }
}

fn room_end_reason_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    enum_in(d, ROOM_END_REASONS)
}

fn track_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    enum_in(d, TRACK_TYPES)
}

fn participant_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    enum_in(d, PARTICIPANT_KINDS)
}

fn disconnect_reason<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    enum_in(d, DISCONNECT_REASONS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::TrackKind;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(body: Value) -> Option<RoomEvent> {
        Webhook::parse(body.to_string().as_bytes()).unwrap().to_event(Millis(0)).unwrap()
    }

    #[test]
    fn sids_are_deterministic_and_fixed_width() {
        assert_eq!(hex32("RM_abc").len(), 32);
        assert_eq!(room_sid("RM_abc"), room_sid("RM_abc"));
        assert_ne!(room_sid("RM_abc"), room_sid("RM_abd"));
        // SHA-256("abc") starts ba7816bf8f01cfea414140de5dae2223.
        assert_eq!(hex32("abc"), "ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn room_started_is_created_at_the_rooms_creation_time_in_milliseconds() {
        let event = map(json!({"event": "room_started", "id": "EV_1", "createdAt": "1771351907",
            "room": {"sid": "RM_x", "name": "standup", "creationTime": "1771351906",
                     "creationTimeMs": "1771351906250", "maxParticipants": 20}}))
        .unwrap();
        assert_eq!(event.event, EventKind::RoomCreated);
        assert_eq!(event.timestamp, Millis(1_771_351_906_250));
        assert_eq!(event.create_time, Some(Millis(1_771_351_906_250)));
        assert_eq!(event.room_sid, room_sid("RM_x"));
        assert_eq!(event.room_name.as_deref(), Some("standup"));
        assert_eq!(event.max_participants, Some(20));
        assert_eq!(event.room_type.map(|t| t.as_str()), Some("group"));
    }

    #[test]
    fn a_left_participant_carries_its_join_time_and_reason() {
        let event = map(json!({"event": "participant_left", "createdAt": 1771352000,
            "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_1", "identity": "alice", "joinedAt": "1771351910",
                            "disconnectReason": "CLIENT_INITIATED"}}))
        .unwrap();
        assert_eq!(event.event, EventKind::ParticipantDisconnected);
        assert_eq!(event.timestamp, Millis(1_771_352_000_000));
        assert_eq!(event.join_time, Some(Millis(1_771_351_910_000)));
        assert_eq!(event.end_reason.as_deref(), Some("client_initiated"));
        assert_eq!(event.participant_sid, Some(participant_sid("PA_1")));
        let unknown = map(json!({"event": "participant_left", "createdAt": "1", "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_1", "disconnectReason": 0}}))
        .unwrap();
        assert_eq!(unknown.end_reason, None);
    }

    #[test]
    fn tracks_take_every_codec_and_an_absent_type_is_audio() {
        let video = map(json!({"event": "track_published", "createdAt": "5", "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_1", "identity": "alice"},
            "track": {"sid": "TR_v", "type": "VIDEO", "mimeType": "video/VP9",
                      "codecs": [{"mimeType": "video/VP9"}, {"mimeType": "video/vp8"}, {"mimeType": "video/AV1"}]}}))
        .unwrap();
        assert_eq!(video.track_kind, Some(TrackKind::Video));
        assert_eq!(video.codec, Some(Codec::Vp8));
        assert_eq!(video.codecs, vec![Codec::Vp9]);
        let audio = map(json!({"event": "track_published", "createdAt": "5", "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_1"}, "track": {"sid": "TR_a", "mimeType": "audio/red"}}))
        .unwrap();
        assert_eq!(audio.track_kind, Some(TrackKind::Audio));
        assert_eq!(audio.codec, Some(Codec::Opus));
        assert!(audio.codecs.is_empty());
    }

    #[test]
    fn egress_files_add_whole_seconds_of_nanoseconds_and_name_the_room_by_its_id() {
        let event = map(json!({"event": "egress_ended", "createdAt": "9",
            "egressInfo": {"egressId": "EG_1", "roomId": "RM_x", "roomName": "standup",
                           "fileResults": [{"duration": "3720999999999"}, {"duration": 1500000000}],
                           "file": {"duration": "3720999999999"}}}))
        .unwrap();
        assert_eq!(event.event, EventKind::RecordingCompleted);
        assert_eq!(event.room_sid, room_sid("RM_x"));
        assert_eq!(event.duration, Some(3720 + 1));
        assert_eq!(event.recording_enabled, Some(true));
        assert_eq!(event.recording_sid.as_deref(), Some("EG_1"));
        let web = map(json!({"event": "egress_started", "egressInfo": {"egressId": "EG_2"}}));
        assert!(web.is_none(), "a web egress belongs to no room");
    }

    #[test]
    fn recorders_and_aborted_connections_change_no_summary() {
        let recorder = map(json!({"event": "participant_joined", "createdAt": "5", "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_eg", "identity": "EG_1", "kind": "EGRESS"}}))
        .unwrap();
        assert_eq!(recorder.event, EventKind::Other);
        assert_eq!(recorder.participant_sid, None);
        let numbered = map(json!({"event": "participant_joined", "createdAt": "5", "room": {"sid": "RM_x"},
            "participant": {"sid": "PA_eg", "kind": 2}}))
        .unwrap();
        assert_eq!(numbered.event, EventKind::Other);
        let aborted = map(json!({"event": "participant_connection_aborted", "createdAt": "5",
            "room": {"sid": "RM_x"}, "participant": {"sid": "PA_2", "identity": "bob"}}))
        .unwrap();
        assert_eq!(aborted.event, EventKind::ParticipantConnectionAborted);
        assert!(!aborted.event.changes_summaries());
    }

    #[test]
    fn room_end_reasons_map_to_the_apis_and_others_to_none() {
        let end = |reason: &str| {
            map(json!({"event": "room_finished", "createdAt": "9", "room": {"sid": "RM_x"}, "roomEndReason": reason}))
                .unwrap()
                .end_reason
        };
        assert_eq!(end("ROOM_END_API_DELETE").as_deref(), Some("room_ended_via_api"));
        assert_eq!(end("ROOM_END_IDLE_TIMEOUT").as_deref(), Some("timeout"));
        assert_eq!(end("ROOM_END_SOMETHING"), None);
        let numbered =
            map(json!({"event": "room_finished", "createdAt": "9", "room": {"sid": "RM_x"}, "roomEndReason": 2}));
        assert_eq!(numbered.unwrap().end_reason.as_deref(), Some("timeout"));
    }

    #[test]
    fn malformed_bodies_and_room_events_without_a_room_are_errors() {
        assert!(Webhook::parse(b"{").is_err());
        assert!(Webhook::parse(br#"{"createdAt": "soon"}"#).is_err());
        let no_room = Webhook::parse(br#"{"event": "participant_joined", "participant": {"sid": "PA_1"}}"#).unwrap();
        assert!(no_room.to_event(Millis(0)).unwrap_err().0.contains("room.sid"));
        let no_participant = Webhook::parse(br#"{"event": "participant_joined", "room": {"sid": "RM_1"}}"#).unwrap();
        assert!(no_participant.to_event(Millis(0)).is_err());
        let unknown = Webhook::parse(br#"{"event": "agent_job_started"}"#).unwrap();
        assert_eq!(unknown.to_event(Millis(0)).unwrap(), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(webhook) = Webhook::parse(&bytes) {
                let _ = webhook.to_event(Millis(0));
            }
        }

        #[test]
        fn arbitrary_values_of_known_keys_never_panic(
            event in prop::sample::select(vec!["room_started", "room_finished", "participant_joined",
                "participant_left", "participant_connection_aborted", "track_published", "track_unpublished",
                "egress_started", "egress_updated", "egress_ended", "ingress_started", "other"]),
            sid in ".{0,40}", identity in ".{0,40}", n in any::<i64>(), mime in ".{0,20}", kind in 0u64..20,
        ) {
            let body = json!({"event": event, "id": sid, "createdAt": n.to_string(),
                "room": {"sid": sid, "name": identity, "creationTime": n, "maxParticipants": n},
                "participant": {"sid": sid, "identity": identity, "joinedAtMs": n.to_string(), "kind": kind,
                                "disconnectReason": kind},
                "track": {"sid": sid, "type": kind, "mimeType": mime, "codecs": [{"mimeType": mime}]},
                "egressInfo": {"egressId": sid, "roomId": sid, "fileResults": [{"duration": n.to_string()}]},
                "ingressInfo": {"state": {"roomId": sid}}});
            let webhook = Webhook::parse(body.to_string().as_bytes()).unwrap();
            let _ = webhook.to_event(Millis(0));
        }
    }
}
