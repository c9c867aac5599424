//! The accumulator of one room's events: every field merges commutatively and idempotently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::RoomEvent;
use crate::sid::{ParticipantSid, RoomSid};
use crate::time::Millis;
use crate::vocab::{
    CodecSet, CreatedMethod, EdgeLocation, EventKind, HttpMethod, MediaRegion, RoomEndReason, RoomType,
};

/// Orders events totally: by timestamp, then by a stable hash of the event's identity, so that
/// "the latest value wins" means the same thing whatever order events arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamp(i64, u64);

impl Stamp {
    fn of(event_id: &str, at: Millis) -> Stamp {
        // FNV-1a: stable across builds and machines, which a stored state needs.
        let hash =
            event_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        Stamp(at.0, hash)
    }
}

/// A last-writer-wins register under the `Stamp` order.
///
/// Stored states leave out unset (`None`) fields, which read back as `None`: a state written
/// with every field present, as earlier versions did, reads the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reg<T> {
    pub v: T,
    at: Stamp,
}

fn put<T: Clone>(slot: &mut Option<Reg<T>>, value: Option<&T>, at: Stamp) {
    if let Some(value) = value {
        if slot.as_ref().is_none_or(|current| at > current.at) {
            *slot = Some(Reg { v: value.clone(), at });
        }
    }
}

fn earliest(slot: &mut Option<Millis>, candidate: Millis) {
    if slot.is_none_or(|current| candidate < current) {
        *slot = Some(candidate);
    }
}

fn latest(slot: &mut Option<Millis>, candidate: Millis) {
    if slot.is_none_or(|current| candidate > current) {
        *slot = Some(candidate);
    }
}

pub(crate) fn value<T>(slot: &Option<Reg<T>>) -> Option<&T> {
    slot.as_ref().map(|r| &r.v)
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoomConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_name: Option<Reg<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_type: Option<Reg<RoomType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_duration: Option<Reg<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_region: Option<Reg<MediaRegion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_location: Option<Reg<EdgeLocation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_method: Option<Reg<CreatedMethod>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<Reg<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_callback_method: Option<Reg<HttpMethod>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<Reg<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_participants: Option<Reg<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_enabled: Option<Reg<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<Reg<RoomEndReason>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParticipantState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnected_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Reg<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<Reg<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<Reg<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<Reg<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_region: Option<Reg<MediaRegion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_location: Option<Reg<EdgeLocation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_info: Option<Reg<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Reg<Value>>,
}

/// A track or a recording: who it belongs to and which codecs it carried.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MediaState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Reg<ParticipantSid>>,
    /// For recordings: the track recorded (`SourceSid`), through which the owner is found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Reg<String>>,
    pub codecs: CodecSet,
    /// For recordings: `Duration` of `recording-completed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<Reg<i64>>,
    pub started: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomState {
    pub room_sid: RoomSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Millis>,
    pub config: RoomConfig,
    pub participants: BTreeMap<ParticipantSid, ParticipantState>,
    pub tracks: BTreeMap<String, MediaState>,
    pub recordings: BTreeMap<String, MediaState>,
    /// Whether the summary last written was final (`complete` or `timeout`): a room whose
    /// processing becomes final with time alone is announced once (docs/behaviour.md §6.2). Not
    /// derived from events, and read by nothing that summarises.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub written_final: bool,
}

impl RoomState {
    pub fn new(room_sid: RoomSid) -> RoomState {
        RoomState {
            room_sid,
            first_event: None,
            last_event: None,
            created_at: None,
            ended_at: None,
            config: RoomConfig::default(),
            participants: BTreeMap::new(),
            tracks: BTreeMap::new(),
            recordings: BTreeMap::new(),
            written_final: false,
        }
    }

    /// Merges one event. Events that change no summary (`EventKind::changes_summaries`) are
    /// stored by the caller but change nothing here.
    pub fn apply(&mut self, event_id: &str, event: &RoomEvent) {
        if !event.event.changes_summaries() {
            return;
        }
        let at = event.timestamp;
        let stamp = Stamp::of(event_id, at);
        earliest(&mut self.first_event, at);
        latest(&mut self.last_event, at);
        match event.event {
            EventKind::RoomCreated => earliest(&mut self.created_at, at),
            EventKind::RoomEnded => earliest(&mut self.ended_at, at),
            _ => {}
        }
        if let Some(created) = event.create_time {
            earliest(&mut self.created_at, created);
        }
        self.apply_room_fields(event, stamp);
        if let Some(sid) = &event.participant_sid {
            self.apply_participant(sid, event, stamp);
        }
        if let Some(track) = &event.track_sid {
            let media = self.tracks.entry(track.clone()).or_default();
            put(&mut media.owner, event.participant_sid.as_ref(), stamp);
            event.codec.iter().chain(&event.codecs).for_each(|codec| media.codecs.insert(*codec));
        }
        if let Some(recording) = &event.recording_sid {
            let media = self.recordings.entry(recording.clone()).or_default();
            put(&mut media.owner, event.participant_sid.as_ref(), stamp);
            put(&mut media.source, event.source_sid.as_ref(), stamp);
            if let Some(codec) = event.codec {
                media.codecs.insert(codec);
            }
            if event.event == EventKind::RecordingCompleted {
                put(&mut media.duration, event.duration.as_ref(), stamp);
            }
            media.started |= matches!(event.event, EventKind::RecordingStarted | EventKind::RecordingCompleted);
        }
    }

    fn apply_room_fields(&mut self, event: &RoomEvent, stamp: Stamp) {
        let c = &mut self.config;
        put(&mut c.room_name, event.room_name.as_ref(), stamp);
        put(&mut c.room_type, event.room_type.as_ref(), stamp);
        if event.event == EventKind::RoomEnded {
            put(&mut c.room_duration, event.room_duration.as_ref(), stamp);
        }
        put(&mut c.created_method, event.created_method.as_ref(), stamp);
        put(&mut c.status_callback, event.status_callback.as_ref(), stamp);
        put(&mut c.status_callback_method, event.status_callback_method.as_ref(), stamp);
        put(&mut c.max_participants, event.max_participants.as_ref(), stamp);
        put(&mut c.max_concurrent_participants, event.max_concurrent_participants.as_ref(), stamp);
        put(&mut c.recording_enabled, event.recording_enabled.as_ref(), stamp);
        if event.participant_sid.is_none() {
            put(&mut c.media_region, event.media_region.as_ref(), stamp);
            put(&mut c.edge_location, event.edge_location.as_ref(), stamp);
            let reason = event.end_reason.as_deref().and_then(|r| r.parse::<RoomEndReason>().ok());
            put(&mut c.end_reason, reason.as_ref(), stamp);
        }
    }

    fn apply_participant(&mut self, sid: &ParticipantSid, event: &RoomEvent, stamp: Stamp) {
        let at = event.timestamp;
        let p = self.participants.entry(sid.clone()).or_default();
        earliest(&mut p.first_event, at);
        match event.event {
            EventKind::ParticipantConnected => earliest(&mut p.connected_at, at),
            EventKind::ParticipantDisconnected => {
                earliest(&mut p.disconnected_at, at);
                put(&mut p.duration, event.participant_duration.as_ref(), stamp);
            }
            _ => {}
        }
        if let Some(joined) = event.join_time {
            earliest(&mut p.connected_at, joined);
        }
        put(&mut p.identity, event.participant_identity.as_ref(), stamp);
        put(&mut p.end_reason, event.end_reason.as_ref(), stamp);
        put(&mut p.error_code, event.error_code.as_ref(), stamp);
        put(&mut p.media_region, event.media_region.as_ref(), stamp);
        put(&mut p.edge_location, event.edge_location.as_ref(), stamp);
        put(&mut p.publisher_info, event.publisher_info.as_ref(), stamp);
        put(&mut p.properties, event.properties.as_ref(), stamp);
    }
}
