//! Typed builders for JSON events (docs/behaviour.md §4.2) and the instants tests put in them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use roomlog_core::sid::{ParticipantSid, RecordingSid, RoomSid, TrackSid};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Adds or replaces fields of an event: `room.ended(t).with("room_duration", 60)`.
pub trait With {
    fn with(self, key: &str, value: impl Serialize) -> Value;
    fn without(self, key: &str) -> Value;
}

impl With for Value {
    fn with(mut self, key: &str, value: impl Serialize) -> Value {
        self[key] = serde_json::to_value(value).expect("a JSON value");
        self
    }

    fn without(mut self, key: &str) -> Value {
        if let Some(object) = self.as_object_mut() {
            object.remove(key);
        }
        self
    }
}

/// An instant `seconds` before now, in the millisecond form events carry.
pub fn ago(seconds: i64) -> String {
    stamp(Utc::now() - Duration::seconds(seconds))
}

pub fn stamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2025-10-27T18:MM:SSZ`: minute and second of a fixed hour, for hand-checked timelines.
pub fn at(minute: u32, second: u32) -> String {
    format!("2025-10-27T18:{minute:02}:{second:02}Z")
}

/// One participant: a fresh SID and an identity (a re-join is a new `Participant` with the
/// same identity).
#[derive(Clone, Debug)]
pub struct Participant {
    pub sid: String,
    pub identity: String,
}

pub fn participant(identity: &str) -> Participant {
    Participant { sid: ParticipantSid::generate().to_string(), identity: identity.to_owned() }
}

/// One room: its SID, name and type, put on every event about it.
#[derive(Clone, Debug)]
pub struct Room {
    pub sid: String,
    pub name: String,
    pub room_type: String,
}

pub fn room(name: &str) -> Room {
    room_of_type(name, "group")
}

pub fn room_of_type(name: &str, room_type: &str) -> Room {
    Room { sid: RoomSid::generate().to_string(), name: name.to_owned(), room_type: room_type.to_owned() }
}

pub fn track_sid() -> String {
    TrackSid::generate().to_string()
}

pub fn recording_sid() -> String {
    RecordingSid::generate().to_string()
}

impl Room {
    pub fn event(&self, kind: &str, timestamp: &str) -> Value {
        json!({
            "event": kind,
            "timestamp": timestamp,
            "room_sid": self.sid,
            "room_name": self.name,
            "room_type": self.room_type,
        })
    }

    pub fn created(&self, timestamp: &str) -> Value {
        self.event("room-created", timestamp)
    }

    pub fn ended(&self, timestamp: &str) -> Value {
        self.event("room-ended", timestamp)
    }

    fn participant_event(&self, kind: &str, who: &Participant, timestamp: &str) -> Value {
        self.event(kind, timestamp).with("participant_sid", &who.sid).with("participant_identity", &who.identity)
    }

    pub fn connected(&self, who: &Participant, timestamp: &str) -> Value {
        self.participant_event("participant-connected", who, timestamp)
    }

    pub fn disconnected(&self, who: &Participant, timestamp: &str) -> Value {
        self.participant_event("participant-disconnected", who, timestamp)
    }

    /// `track-added` of a track `who` publishes with `codec`.
    pub fn track_added(&self, who: &Participant, track: &str, codec: &str, timestamp: &str) -> Value {
        let kind = if codec.eq_ignore_ascii_case("opus") { "audio" } else { "video" };
        self.participant_event("track-added", who, timestamp)
            .with("track_sid", track)
            .with("track_kind", kind)
            .with("track_name", format!("{kind}-{}", &track[2..8]))
            .with("codec", codec)
    }

    /// `recording-started` or `-completed` of `source` (a track SID).
    pub fn recording(&self, kind: &str, recording: &str, source: &str, codec: &str, timestamp: &str) -> Value {
        self.event(kind, timestamp)
            .with("recording_sid", recording)
            .with("source_sid", source)
            .with("codec", codec)
            .with("container", "mka")
    }

    /// The smallest room of a given creation instant and codecs: created, plus one participant
    /// publishing one track per codec. For list and filter tests.
    pub fn with_codecs(&self, created: &str, codecs: &[&str]) -> Vec<Value> {
        let who = participant("publisher");
        let mut events = vec![self.created(created), self.connected(&who, created)];
        events.extend(codecs.iter().map(|codec| self.track_added(&who, &track_sid(), codec, created)));
        events
    }
}

/// Events of `rooms` created one second apart from `2025-10-27T18:00:00Z`, oldest first.
pub fn rooms_one_second_apart(count: u32) -> (Vec<Room>, Vec<Value>) {
    let rooms: Vec<Room> = (0..count).map(|i| room(&format!("room {i}"))).collect();
    let events = rooms.iter().enumerate().map(|(i, r)| r.created(&at(i as u32 / 60, i as u32 % 60))).collect();
    (rooms, events)
}

/// An event instant as the API shows it: whole seconds, literal `Z` (docs/behaviour.md §5).
pub fn api_time(timestamp: &str) -> String {
    let instant = DateTime::parse_from_rfc3339(timestamp).expect("an RFC 3339 instant").with_timezone(&Utc);
    instant.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The hand-checked room of docs/behaviour.md §5 (expected summaries in `summaries.rs`): alice leaves
/// as carol joins and carol leaves as alice re-joins (same instants: leaves count first), bob
/// stays until the room ends, two recordings complete.
pub struct Standup {
    pub room: Room,
    pub alice: Participant,
    pub bob: Participant,
    pub carol: Participant,
    pub alice_again: Participant,
    pub events: Vec<Value>,
}

pub fn standup() -> Standup {
    let room = room("Daily standup");
    let (alice, bob, carol) = (participant("alice"), participant("bob"), participant("carol"));
    let alice_again = participant("alice");
    let (video, audio, screen, recording) = (track_sid(), track_sid(), track_sid(), recording_sid());
    let r = &room;
    let events = vec![
        r.created("2025-10-27T18:00:00.250Z"),
        r.connected(&alice, "2025-10-27T18:00:01.500Z"),
        r.connected(&bob, "2025-10-27T18:00:05.000Z"),
        r.track_added(&bob, &audio, "OPUS", "2025-10-27T18:00:06.000Z"),
        r.track_added(&bob, &video, "VP8", "2025-10-27T18:00:06.000Z"),
        r.recording("recording-started", &recording, &video, "VP8", "2025-10-27T18:01:00.000Z"),
        r.disconnected(&alice, "2025-10-27T18:05:00.000Z").with("participant_duration", 300),
        r.connected(&carol, "2025-10-27T18:05:00.000Z"),
        r.track_added(&carol, &screen, "H264", "2025-10-27T18:05:01.000Z"),
        r.recording("recording-completed", &recording, &video, "VP8", "2025-10-27T18:06:00.000Z").with("duration", 300),
        r.recording("recording-completed", &recording_sid(), &audio, "OPUS", "2025-10-27T18:07:00.000Z")
            .with("duration", 120),
        r.disconnected(&carol, "2025-10-27T18:12:00.000Z"),
        r.connected(&alice_again, "2025-10-27T18:12:00.000Z"),
        r.disconnected(&alice_again, "2025-10-27T18:20:30.999Z"),
        r.ended("2025-10-27T18:30:00.900Z"),
    ];
    Standup { room, alice, bob, carol, alice_again, events }
}

/// A hand-built Twilio callback stream (tests/fixtures): room A from creation to its
/// composition, room B created and joined; every `AccountSid` set to `account`.
pub fn twilio_callbacks(account: &str) -> Vec<Vec<(String, String)>> {
    let text = include_str!("../fixtures/twilio_room_callbacks.json");
    let callbacks: Vec<Map<String, Value>> = serde_json::from_str(text).expect("the fixture parses");
    callbacks
        .into_iter()
        .map(|params| {
            params
                .into_iter()
                .map(|(k, v)| {
                    let value =
                        if k == "AccountSid" { account.to_owned() } else { v.as_str().expect("text").to_owned() };
                    (k, value)
                })
                .collect()
        })
        .collect()
}
