//! The ingest step every backend runs inside its write transaction: a room's stored state plus
//! its new events → the rows to write. Backends only do the I/O around it.

use crate::event::RoomEvent;
use crate::fold::{FoldSettings, Folded, RoomState};
use crate::sid::{AccountSid, RoomSid};
use crate::summary::{ParticipantSummary, StoredJson};
use crate::time::Millis;
use crate::vocab::ProcessingState;

/// The columns of a room row that are not its state: the list's sort key and filter columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub create_time_secs: i64,
    pub room_name: Option<String>,
    pub room_type: Option<&'static str>,
    pub codecs: i64,
    pub revisit_at: Option<Millis>,
    pub json: StoredJson,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantRow {
    pub participant_sid: String,
    pub join_time_secs: i64,
    /// For one identity's sessions across rooms (docs/behaviour.md §7.2).
    pub identity: Option<String>,
    pub json: StoredJson,
}

/// What to write for one room.
#[derive(Debug, Clone)]
pub struct RoomUpdate {
    pub state: RoomState,
    pub state_json: String,
    pub room: RoomRow,
    /// Only the participants whose summary changed (or all of them for a new room).
    pub participants: Vec<ParticipantRow>,
    /// What the room adds to the usage answer (docs/behaviour.md §7.1), from all its participants.
    pub usage: crate::usage::RoomUsage,
    /// What room webhooks announce (docs/behaviour.md §6.2): a room seen for the first time,
    /// and a room whose processing became final, or that changed after it was final.
    pub announce: Announce,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Announce {
    pub started: bool,
    /// With everything `room.completed` carries: the room and all its participants.
    pub completed: Option<Folded>,
}

fn is_final(folded: &Folded) -> bool {
    matches!(folded.room.processing_state, ProcessingState::Complete | ProcessingState::Timeout)
}

fn announce(written_final: bool, before: Option<&Folded>, after: &Folded) -> Announce {
    let changed_when_final = is_final(after)
        && (!written_final || before.is_none_or(|b| b.room != after.room || b.participants != after.participants));
    Announce { started: before.is_none(), completed: changed_when_final.then(|| after.clone()) }
}

/// Applies `events` to the room's stored state (or a fresh one) and returns what changed.
pub fn update<'a>(
    account: &AccountSid,
    room_sid: &RoomSid,
    stored_state: Option<&str>,
    events: impl IntoIterator<Item = (&'a str, &'a RoomEvent)>,
    settings: &FoldSettings,
    now: Millis,
) -> Result<RoomUpdate, serde_json::Error> {
    let mut state = match stored_state {
        Some(json) => serde_json::from_str(json)?,
        None => RoomState::new(room_sid.clone()),
    };
    let before = stored_state.map(|_| state.summarize(account, settings, now));
    for (event_id, event) in events {
        state.apply(event_id, event);
    }
    let after = state.summarize(account, settings, now);
    let participants = changed_participants(before.as_ref(), &after);
    let room = room_row(&after);
    let usage = crate::usage::RoomUsage::of(&after.room, &after.participants);
    let announce = announce(state.written_final, before.as_ref(), &after);
    state.written_final = is_final(&after);
    let state_json = serde_json::to_string(&state)?;
    Ok(RoomUpdate { state, state_json, room, participants, usage, announce })
}

pub fn room_row(folded: &Folded) -> RoomRow {
    let room = &folded.room;
    RoomRow {
        create_time_secs: room.create_time.map_or(0, Millis::secs),
        room_name: room.room_name.clone(),
        room_type: room.room_type.map(|t| t.as_str()),
        codecs: i64::from(room.codecs.iter().copied().collect::<crate::vocab::CodecSet>().0),
        revisit_at: folded.revisit_at,
        json: StoredJson::of(room),
    }
}

pub fn participant_row(summary: &ParticipantSummary) -> ParticipantRow {
    ParticipantRow {
        participant_sid: summary.participant_sid.to_string(),
        join_time_secs: summary.join_time.map_or(0, Millis::secs),
        identity: summary.participant_identity.clone(),
        json: StoredJson::of(summary),
    }
}

fn changed_participants(before: Option<&Folded>, after: &Folded) -> Vec<ParticipantRow> {
    let previous: std::collections::HashMap<&crate::sid::ParticipantSid, &ParticipantSummary> =
        before.map(|b| b.participants.iter().map(|p| (&p.participant_sid, p)).collect()).unwrap_or_default();
    after.participants.iter().filter(|p| previous.get(&p.participant_sid) != Some(p)).map(participant_row).collect()
}
