//! The room page: the room's summary, its participant timeline and concurrency chart, and its
//! participants, read with the store calls `GET /v1/Video/Rooms/{sid}[/Participants]` make.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roomlog_core::page::{Page, PageRequest};
use roomlog_core::{AccountSid, Millis, ParticipantSummary, RoomSid, RoomSummary};

use super::format::{self, UNKNOWN};
use super::provenance::{Provenance, MOST_EVENTS};
use super::sign_in::SignedIn;
use super::timeline::{self, Stay};
use super::{page, svg, Nav, PageError};
use crate::state::AppState;

/// Participants read per store call, and the most a page shows (Twilio caps a room at 50).
const PARTICIPANT_PAGE: u32 = 1000;
const MOST_PARTICIPANTS: usize = 10_000;

struct ParticipantRow {
    sid: String,
    identity: String,
    joined: String,
    left: String,
    duration: String,
    status: &'static str,
    codecs: String,
    end_reason: String,
    region: String,
    /// The SID its source knew it by (LiveKit's `PA_…`), when that differs.
    source_sid: String,
}

impl ParticipantRow {
    fn of(p: &ParticipantSummary, provenance: &Provenance) -> ParticipantRow {
        ParticipantRow {
            sid: p.participant_sid.to_string(),
            identity: p.participant_identity.clone().unwrap_or_else(|| UNKNOWN.to_owned()),
            joined: format::datetime(p.join_time),
            left: format::datetime(p.leave_time),
            duration: format::duration(p.duration_sec),
            status: format::participant_status(p.status),
            codecs: format::codecs(&p.codecs),
            end_reason: format::or_unknown(p.end_reason.as_ref()),
            region: format::or_unknown(p.media_region.map(|r| r.as_str())),
            source_sid: format::or_unknown(provenance.livekit_participants.get(p.participant_sid.as_str())),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/room.html")]
struct RoomPage {
    nav: Option<Nav>,
    title: String,
    sid: String,
    /// `(term, value)` pairs of the summary list.
    facts: Vec<(&'static str, String)>,
    timeline: String,
    concurrency: String,
    sessions: usize,
    participants: Vec<ParticipantRow>,
    truncated: bool,
    from_livekit: bool,
}

/// Every participant of the room in list order, a page of the API's contract at a time.
async fn participants(
    state: &AppState,
    account: &AccountSid,
    room: &RoomSid,
) -> Result<(Vec<ParticipantSummary>, bool), PageError> {
    let mut request = PageRequest { size: PARTICIPANT_PAGE, page: 0, cursor: None, offset: 0, cutoff: None };
    let mut all = Vec::new();
    loop {
        let rows = state.store.list_participants(account, room, &request).await?;
        let page = Page::assemble(rows, &request);
        for row in &page.rows {
            all.push(serde_json::from_str::<ParticipantSummary>(&row.json.0)?);
        }
        match page.next {
            Some(cursor) if all.len() < MOST_PARTICIPANTS => {
                request = PageRequest { page: request.page + 1, cursor: Some(cursor), ..request };
            }
            Some(_) => return Ok((all, true)),
            None => return Ok((all, false)),
        }
    }
}

fn facts(room: &RoomSummary, provenance: &Provenance) -> Vec<(&'static str, String)> {
    let recording = match (room.recording_enabled, room.total_recording_duration_sec) {
        (_, seconds) if seconds > 0 => format!("yes — {} recorded in total", format::duration(Some(seconds))),
        (true, _) => "enabled".to_owned(),
        (false, _) => "no".to_owned(),
    };
    let mut facts = vec![
        ("Source", provenance.describe()),
        ("Status", format::room_status(room.room_status).to_owned()),
        ("Type", format::room_type(room.room_type).to_owned()),
        ("Created (UTC)", format::datetime(room.create_time)),
        ("Ended (UTC)", format::datetime(room.end_time)),
        ("Duration", format::duration(room.duration_sec)),
        (
            "Participants",
            format!(
                "{} sessions, {} identities, peak {} at once",
                room.unique_participants, room.unique_participant_identities, room.concurrent_participants
            ),
        ),
        ("Participant time", format::duration(Some(room.total_participant_duration_sec))),
        ("Codecs", format::codecs(&room.codecs)),
        ("Recording", recording),
        ("Media region", format::or_unknown(room.media_region.map(|r| r.as_str()))),
        ("Edge location", format::or_unknown(room.edge_location.map(|e| e.as_str()))),
        ("Created via", format::or_unknown(room.created_method.map(|m| m.as_str()))),
        ("End reason", format::or_unknown(room.end_reason.map(|r| r.as_str()))),
        ("Max participants", format::or_unknown(room.max_participants)),
        ("Processing", format::processing_state(room.processing_state).to_owned()),
    ];
    if provenance.fed_by_livekit() {
        facts.insert(1, ("LiveKit room SID", format::or_unknown(provenance.livekit_room_sid.as_ref())));
        facts.insert(2, ("Aborted connections", provenance.aborted_connections.to_string()));
    }
    facts
}

pub async fn fetch(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(room_sid): Path<String>,
) -> Result<Response, PageError> {
    // Another account's room reads exactly like a missing one (docs/behaviour.md §3: no existence leak).
    let room: RoomSid = room_sid.parse().map_err(|_| PageError::not_found("This room"))?;
    let stored = state.store.room(&signed_in.account, &room).await?.ok_or_else(|| PageError::not_found("This room"))?;
    let summary: RoomSummary = serde_json::from_str(&stored.0)?;
    let (people, truncated) = participants(&state, &signed_in.account, &room).await?;
    let provenance = Provenance::of(&state.store.room_events(&signed_in.account, &room, MOST_EVENTS).await?);
    let sessions: Vec<Stay> = people
        .iter()
        .filter_map(|p| {
            Some(Stay {
                sid: p.participant_sid.to_string(),
                identity: p.participant_identity.clone(),
                join: p.join_time?.secs(),
                leave: p.leave_time.map(Millis::secs),
            })
        })
        .collect();
    let span = timeline::span(
        summary.create_time.map(Millis::secs),
        summary.end_time.map(Millis::secs),
        &sessions,
        Millis::now().secs(),
    );
    let steps = timeline::concurrency(&sessions, span);
    let recording = (summary.recording_enabled || summary.total_recording_duration_sec > 0).then(|| {
        format!(
            "Recording enabled for this room; {} of recordings completed. Summaries do not say when each \
             recording ran.",
            format::duration(Some(summary.total_recording_duration_sec))
        )
    });
    let view = RoomPage {
        nav: Some(signed_in.nav()),
        title: summary.room_name.clone().unwrap_or_else(|| room.to_string()),
        sid: room.to_string(),
        facts: facts(&summary, &provenance),
        timeline: svg::timeline(&timeline::rows(sessions.clone()), span, recording.as_deref()),
        concurrency: svg::concurrency(&steps, span),
        sessions: sessions.len(),
        participants: people.iter().map(|p| ParticipantRow::of(p, &provenance)).collect(),
        truncated,
        from_livekit: provenance.fed_by_livekit(),
    };
    Ok(page(StatusCode::OK, &view))
}
