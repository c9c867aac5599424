//! From a room's accumulated state to the API's summaries, field by field as docs/behaviour.md §5 says.

use crate::fold::state::{value, ParticipantState, RoomState};
use crate::sid::{AccountSid, ParticipantSid};
use crate::summary::{ParticipantSummary, RoomSummary};
use crate::time::Millis;
use crate::vocab::{CodecSet, ParticipantStatus, ProcessingState, RoomStatus};

/// The lifecycle settings that make a summary depend on time as well as on events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldSettings {
    /// How long after `room-ended` a room stays `processing_state = in_progress`.
    pub settle_window_ms: i64,
    /// How long a room may stay silent without `room-ended` before it is closed as `timeout`.
    pub room_timeout_ms: i64,
}

impl Default for FoldSettings {
    fn default() -> Self {
        FoldSettings { settle_window_ms: 5 * 60 * 1000, room_timeout_ms: 24 * 3600 * 1000 }
    }
}

/// A room's summaries at one instant, and when they would next change without new events.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    pub room: RoomSummary,
    /// Ordered as the API lists them: `join_time`, then `participant_sid`.
    pub participants: Vec<ParticipantSummary>,
    pub revisit_at: Option<Millis>,
}

/// How a room ended, if it has: by `room-ended`, or closed by the room timeout.
#[derive(Clone, Copy)]
enum Ending {
    Open,
    Ended(Millis),
    TimedOut(Millis),
}

impl Ending {
    fn at(self) -> Option<Millis> {
        match self {
            Ending::Open => None,
            Ending::Ended(at) | Ending::TimedOut(at) => Some(at),
        }
    }
}

impl RoomState {
    pub fn summarize(&self, account: &AccountSid, settings: &FoldSettings, now: Millis) -> Folded {
        let first = self.first_event.unwrap_or_default();
        let created = self.created_at.unwrap_or(first);
        let last = self.last_event.unwrap_or(first);
        let ending = match self.ended_at {
            Some(at) => Ending::Ended(at),
            None if now >= last.plus_ms(settings.room_timeout_ms) => Ending::TimedOut(last),
            None => Ending::Open,
        };
        let end = ending.at();

        let mut participants: Vec<ParticipantSummary> =
            self.participants.iter().map(|(sid, p)| self.participant_summary(account, sid, p, end)).collect();
        participants.sort_by(|a, b| (a.join_time, &a.participant_sid).cmp(&(b.join_time, &b.participant_sid)));

        let c = &self.config;
        let recording_started = self.recordings.values().any(|r| r.started);
        let (processing_state, revisit_at) = match ending {
            Ending::Open => (ProcessingState::InProgress, Some(last.plus_ms(settings.room_timeout_ms))),
            Ending::TimedOut(_) => (ProcessingState::Timeout, None),
            Ending::Ended(at) if now >= at.plus_ms(settings.settle_window_ms) => (ProcessingState::Complete, None),
            Ending::Ended(at) => (ProcessingState::InProgress, Some(at.plus_ms(settings.settle_window_ms))),
        };
        let room = RoomSummary {
            account_sid: account.clone(),
            room_sid: self.room_sid.clone(),
            room_name: value(&c.room_name).cloned(),
            create_time: Some(created.truncated()),
            end_time: end.map(Millis::truncated),
            room_type: value(&c.room_type).copied(),
            room_status: Some(if end.is_some() { RoomStatus::Completed } else { RoomStatus::InProgress }),
            status_callback: value(&c.status_callback).cloned(),
            status_callback_method: value(&c.status_callback_method).copied(),
            created_method: value(&c.created_method).copied(),
            // From an event only (docs/behaviour.md §5): a room closed by the timeout got none.
            end_reason: value(&c.end_reason).copied(),
            max_participants: value(&c.max_participants).copied(),
            unique_participants: participants.len() as i64,
            unique_participant_identities: {
                let mut identities: Vec<&str> =
                    participants.iter().filter_map(|p| p.participant_identity.as_deref()).collect();
                identities.sort_unstable();
                identities.dedup();
                identities.len() as i64
            },
            concurrent_participants: self.peak_concurrency(end),
            max_concurrent_participants: value(&c.max_concurrent_participants).copied(),
            codecs: self
                .tracks
                .values()
                .chain(self.recordings.values())
                .fold(CodecSet::default(), |set, m| set.union(m.codecs))
                .to_vec(),
            media_region: value(&c.media_region).copied(),
            duration_sec: end
                .map(|end| value(&c.room_duration).copied().unwrap_or_else(|| end.whole_secs_since(created))),
            total_participant_duration_sec: participants.iter().filter_map(|p| p.duration_sec).sum(),
            total_recording_duration_sec: self.recordings.values().filter_map(|r| value(&r.duration)).sum(),
            processing_state,
            recording_enabled: value(&c.recording_enabled).copied().unwrap_or(recording_started),
            edge_location: value(&c.edge_location).copied(),
        };
        Folded { room, participants, revisit_at }
    }

    /// Exact join and leave instants of one participant; leave is capped by the room's end.
    fn session(p: &ParticipantState, room_end: Option<Millis>) -> (Millis, Option<Millis>) {
        let join = p.connected_at.or(p.first_event).unwrap_or_default();
        let leave = match (p.disconnected_at, room_end) {
            (Some(left), Some(end)) => Some(left.min(end)),
            (left, end) => left.or(end),
        };
        (join, leave)
    }

    fn participant_summary(
        &self,
        account: &AccountSid,
        sid: &ParticipantSid,
        p: &ParticipantState,
        room_end: Option<Millis>,
    ) -> ParticipantSummary {
        let (join, leave) = Self::session(p, room_end);
        let owns = |owner: Option<&ParticipantSid>| owner == Some(sid);
        let track_codecs = self.tracks.values().filter(|t| owns(value(&t.owner)));
        let recording_codecs = self.recordings.values().filter(|r| {
            owns(value(&r.owner))
                || value(&r.source)
                    .is_some_and(|source| self.tracks.get(source).is_some_and(|track| owns(value(&track.owner))))
        });
        let codecs = track_codecs.chain(recording_codecs).fold(CodecSet::default(), |set, m| set.union(m.codecs));
        let error_code = value(&p.error_code).copied();
        ParticipantSummary {
            participant_sid: sid.clone(),
            participant_identity: value(&p.identity).cloned(),
            join_time: Some(join.truncated()),
            leave_time: leave.map(Millis::truncated),
            duration_sec: leave
                .map(|leave| value(&p.duration).copied().unwrap_or_else(|| leave.whole_secs_since(join))),
            account_sid: account.clone(),
            room_sid: self.room_sid.clone(),
            status: if leave.is_some() { ParticipantStatus::Completed } else { ParticipantStatus::InProgress },
            codecs: codecs.to_vec(),
            end_reason: value(&p.end_reason).cloned(),
            error_code,
            error_code_url: error_code.map(|code| format!("https://www.twilio.com/docs/api/errors/{code}")),
            media_region: value(&p.media_region).copied(),
            properties: value(&p.properties).cloned(),
            edge_location: value(&p.edge_location).copied(),
            publisher_info: value(&p.publisher_info).cloned(),
        }
    }

    /// The peak number of participants connected at once. At equal instants a leave is counted
    /// before a join (docs/behaviour.md §5: disconnects before connects).
    fn peak_concurrency(&self, room_end: Option<Millis>) -> i64 {
        let mut edges: Vec<(Millis, i64)> = Vec::with_capacity(self.participants.len() * 2);
        for p in self.participants.values() {
            let (join, leave) = Self::session(p, room_end);
            edges.push((join, 1));
            if let Some(leave) = leave {
                edges.push((leave.max(join), -1));
            }
        }
        edges.sort_unstable();
        let mut current = 0i64;
        edges.iter().fold(0, |peak, (_, delta)| {
            current += delta;
            peak.max(current)
        })
    }
}
