//! The fold's specification: a hand-checked room, then properties over generated event sets —
//! order independence, idempotence, and incremental ingest equal to a full refold.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::update::update;
use super::*;
use crate::sid::{ParticipantSid, RoomSid};
use crate::vocab::{Codec, ParticipantStatus, ProcessingState, RoomStatus};

const ROOM: &str = "RM00000000000000000000000000000001";
const T0: i64 = 1_761_588_961_000; // 2025-10-27T18:16:01Z

fn account() -> AccountSid {
    "AC00000000000000000000000000000001".parse().unwrap()
}

fn pa(n: u32) -> String {
    format!("PA{n:032x}")
}

fn event(value: Value) -> RoomEvent {
    let mut value = value;
    value["room_sid"] = json!(ROOM);
    let ms = value["t"].as_i64().unwrap();
    value["timestamp"] = json!(Millis(T0 + ms).to_rfc3339_millis());
    value.as_object_mut().unwrap().remove("t");
    serde_json::from_value(value).unwrap()
}

fn with_ids(events: &[RoomEvent]) -> Vec<(String, RoomEvent)> {
    events.iter().map(|e| (e.digest(&account()), e.clone())).collect()
}

fn fold_all(events: &[(String, RoomEvent)], settings: &FoldSettings, now: Millis) -> Folded {
    fold(&account(), events.iter().map(|(id, e)| (id.as_str(), e)), settings, now).unwrap()
}

/// Alice joins, leaves, re-joins with a new SID; Bob joins and is still there at room end.
fn standup() -> Vec<RoomEvent> {
    vec![
        event(
            json!({"event": "room-created", "t": 0, "room_name": "standup", "room_type": "group", "media_region": "us1", "max_participants": 50}),
        ),
        event(
            json!({"event": "participant-connected", "t": 1_500, "participant_sid": pa(1), "participant_identity": "alice"}),
        ),
        event(
            json!({"event": "track-added", "t": 2_000, "participant_sid": pa(1), "track_sid": "MT1", "track_kind": "video", "codec": "H264"}),
        ),
        event(
            json!({"event": "participant-connected", "t": 10_000, "participant_sid": pa(2), "participant_identity": "bob"}),
        ),
        event(
            json!({"event": "track-added", "t": 10_100, "participant_sid": pa(2), "track_sid": "MT2", "track_kind": "audio", "codec": "OPUS"}),
        ),
        event(
            json!({"event": "participant-disconnected", "t": 60_900, "participant_sid": pa(1), "participant_identity": "alice"}),
        ),
        // Alice re-joins with a new SID, 100 s later.
        event(
            json!({"event": "participant-connected", "t": 160_000, "participant_sid": pa(3), "participant_identity": "alice"}),
        ),
        event(
            json!({"event": "recording-started", "t": 161_000, "participant_sid": pa(3), "recording_sid": "RT1", "source_sid": "MT3", "codec": "VP8"}),
        ),
        event(
            json!({"event": "recording-completed", "t": 191_000, "participant_sid": pa(3), "recording_sid": "RT1", "source_sid": "MT3", "codec": "VP8", "duration": 30}),
        ),
        event(
            json!({"event": "participant-disconnected", "t": 200_000, "participant_sid": pa(3), "participant_duration": 39}),
        ),
        event(json!({"event": "room-ended", "t": 300_700})),
    ]
}

#[test]
fn a_standup_with_a_rejoin_folds_to_the_hand_checked_summary() {
    let settings = FoldSettings { settle_window_ms: 0, room_timeout_ms: 86_400_000 };
    let folded = fold_all(&with_ids(&standup()), &settings, Millis(T0 + 400_000));
    let room = &folded.room;
    assert_eq!(room.create_time.unwrap().to_api_string(), "2025-10-27T18:16:01Z");
    assert_eq!(room.end_time.unwrap().to_api_string(), "2025-10-27T18:21:01Z");
    assert_eq!(room.duration_sec, Some(300));
    assert_eq!(room.room_status, Some(RoomStatus::Completed));
    assert_eq!(room.processing_state, ProcessingState::Complete);
    assert_eq!(room.unique_participants, 3);
    assert_eq!(room.unique_participant_identities, 2);
    assert_eq!(room.concurrent_participants, 2);
    assert_eq!(room.codecs, vec![Codec::Vp8, Codec::H264, Codec::Opus]);
    assert_eq!(room.total_recording_duration_sec, 30);
    assert!(room.recording_enabled);
    assert_eq!(room.max_participants, Some(50));
    // Alice 1: 59.4 s → 59; Bob: 10 s → room end at 300.7 s → 290; Alice 2: ParticipantDuration 39.
    assert_eq!(room.total_participant_duration_sec, 59 + 290 + 39);

    let ids: Vec<String> = folded.participants.iter().map(|p| p.participant_sid.to_string()).collect();
    assert_eq!(ids, vec![pa(1), pa(2), pa(3)]);
    let bob = &folded.participants[1];
    assert_eq!(bob.leave_time, room.end_time, "still connected at room end");
    assert_eq!(bob.status, ParticipantStatus::Completed);
    assert_eq!(bob.codecs, vec![Codec::Opus]);
    assert_eq!(folded.participants[2].codecs, vec![Codec::Vp8]);
    assert_eq!(folded.revisit_at, None);
}

#[test]
fn a_room_in_progress_has_no_end_and_settles_after_the_window() {
    let mut events = standup();
    let ended = events.pop().unwrap();
    let settings = FoldSettings::default();
    let open = fold_all(&with_ids(&events), &settings, Millis(T0 + 400_000));
    assert_eq!((open.room.end_time, open.room.duration_sec), (None, None));
    assert_eq!(open.room.room_status, Some(RoomStatus::InProgress));
    assert_eq!(open.participants[1].leave_time, None);
    assert_eq!(open.participants[1].duration_sec, None);
    assert_eq!(open.participants[1].status, ParticipantStatus::InProgress);

    events.push(ended);
    let ended_at = Millis(T0 + 300_700);
    let settling = fold_all(&with_ids(&events), &settings, ended_at.plus_ms(1_000));
    assert_eq!(settling.room.processing_state, ProcessingState::InProgress);
    assert_eq!(settling.revisit_at, Some(ended_at.plus_ms(settings.settle_window_ms)));
    let settled = fold_all(&with_ids(&events), &settings, ended_at.plus_ms(settings.settle_window_ms));
    assert_eq!(settled.room.processing_state, ProcessingState::Complete);
}

#[test]
fn a_silent_room_is_closed_at_its_last_event_by_the_timeout() {
    let mut events = standup();
    events.pop();
    let settings = FoldSettings { settle_window_ms: 0, room_timeout_ms: 3_600_000 };
    let last = Millis(T0 + 200_000);
    let folded = fold_all(&with_ids(&events), &settings, last.plus_ms(3_600_000));
    assert_eq!(folded.room.processing_state, ProcessingState::Timeout);
    assert_eq!(folded.room.end_time, Some(last.truncated()));
    assert_eq!(folded.room.end_reason, None, "no event gave an end reason");
    assert_eq!(folded.participants[1].leave_time, Some(last.truncated()));
}

#[test]
fn a_leave_and_a_join_at_the_same_instant_are_not_concurrent() {
    let events = vec![
        event(json!({"event": "participant-connected", "t": 0, "participant_sid": pa(1)})),
        event(json!({"event": "participant-connected", "t": 5_000, "participant_sid": pa(2)})),
        event(json!({"event": "participant-disconnected", "t": 5_000, "participant_sid": pa(1)})),
    ];
    let folded = fold_all(&with_ids(&events), &FoldSettings::default(), Millis(T0));
    assert_eq!(folded.room.concurrent_participants, 1);
}

// ---- properties over generated rooms ----

fn arb_room_events() -> impl Strategy<Value = Vec<RoomEvent>> {
    let participant =
        (0u32..6, 0i64..100_000, prop::option::of(1i64..400_000), prop::option::of(0usize..4), 0u8..3, any::<bool>());
    (prop::collection::vec(participant, 0..8), any::<bool>(), prop::option::of(0i64..600_000), any::<bool>()).prop_map(
        |(participants, created, ended, with_duration)| {
            let codecs = ["VP8", "H264", "VP9", "OPUS"];
            let mut events = Vec::new();
            if created {
                events.push(event(json!({"event": "room-created", "t": 0, "room_name": "r", "room_type": "group"})));
            }
            for (n, (identity, join, stay, codec, extra, recorded)) in participants.into_iter().enumerate() {
                let sid = pa(n as u32 + 1);
                let who = format!("user{identity}");
                events.push(event(json!({"event": "participant-connected", "t": join, "participant_sid": sid, "participant_identity": who})));
                if let Some(codec) = codec {
                    let track = format!("MT{n}");
                    events.push(event(json!({"event": "track-added", "t": join + 10, "participant_sid": sid, "track_sid": track, "codec": codecs[codec]})));
                    if recorded {
                        let rec = format!("RT{n}");
                        events.push(event(json!({"event": "recording-started", "t": join + 20, "recording_sid": rec, "source_sid": track, "codec": codecs[codec]})));
                        events.push(event(json!({"event": "recording-completed", "t": join + 30, "recording_sid": rec, "source_sid": track, "duration": extra})));
                    }
                }
                if let Some(stay) = stay {
                    let mut left = json!({"event": "participant-disconnected", "t": join + stay, "participant_sid": sid});
                    if extra == 1 {
                        left["participant_duration"] = json!(stay / 1000);
                    }
                    events.push(event(left));
                }
            }
            if let Some(end) = ended {
                let mut room_ended = json!({"event": "room-ended", "t": end});
                if with_duration {
                    room_ended["room_duration"] = json!(end / 1000);
                }
                events.push(event(room_ended));
            }
            events
        },
    )
}

/// A room's events plus a permutation with duplicates of them.
fn arb_reordering() -> impl Strategy<Value = (Vec<RoomEvent>, Vec<RoomEvent>)> {
    arb_room_events().prop_flat_map(|events| {
        let n = events.len();
        let repeats = prop::collection::vec(0..n.max(1), 0..n.max(1) + 1);
        (Just(events.clone()), Just(events).prop_shuffle(), repeats).prop_map(|(original, mut shuffled, repeats)| {
            if !original.is_empty() {
                for i in repeats {
                    let copy = original[i % original.len()].clone();
                    shuffled.insert(i % shuffled.len(), copy);
                }
            }
            (original, shuffled)
        })
    })
}

fn summaries(folded: Option<Folded>) -> Option<(String, String)> {
    folded.map(|f| (serde_json::to_string(&f.room).unwrap(), serde_json::to_string(&f.participants).unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_permutation_with_duplicates_folds_to_the_same_summaries((original, shuffled) in arb_reordering(), now in 0i64..2_000_000) {
        let settings = FoldSettings { settle_window_ms: 60_000, room_timeout_ms: 900_000 };
        let now = Millis(T0 + now);
        let a = with_ids(&original);
        let b = with_ids(&shuffled);
        let fold_of = |events: &[(String, RoomEvent)]| fold(&account(), events.iter().map(|(id, e)| (id.as_str(), e)), &settings, now);
        prop_assert_eq!(summaries(fold_of(&a)), summaries(fold_of(&b)));
    }

    #[test]
    fn incremental_ingest_through_stored_state_equals_a_full_refold((original, shuffled) in arb_reordering(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        prop_assume!(!original.is_empty());
        let settings = FoldSettings::default();
        let now = Millis(T0 + 1_000_000);
        let room: RoomSid = ROOM.parse().unwrap();
        let events = with_ids(&shuffled);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(events.len())).collect();
        bounds.push(events.len());
        bounds.sort_unstable();
        let (mut stored, mut start) = (None::<String>, 0);
        let mut written: std::collections::BTreeMap<String, String> = Default::default();
        let mut last_room = None;
        for end in bounds {
            let batch = &events[start..end];
            let step = update(&account(), &room, stored.as_deref(), batch.iter().map(|(id, e)| (id.as_str(), e)), &settings, now).unwrap();
            for p in &step.participants {
                written.insert(p.participant_sid.clone(), p.json.0.clone());
            }
            stored = Some(step.state_json);
            last_room = Some(step.room.json.0);
            start = end;
        }
        let full = fold_all(&with_ids(&original), &settings, now);
        prop_assert_eq!(last_room.unwrap(), serde_json::to_string(&full.room).unwrap());
        let expected: std::collections::BTreeMap<String, String> = full.participants.iter()
            .map(|p| (p.participant_sid.to_string(), serde_json::to_string(p).unwrap())).collect();
        prop_assert_eq!(written, expected);
    }
}

#[test]
fn participant_sids_in_generated_rooms_parse() {
    assert!(pa(7).parse::<ParticipantSid>().is_ok());
}

#[test]
fn a_state_stored_with_every_field_spelled_out_reads_as_the_compact_one() {
    // As versions before the compact form stored it: unset fields as `null`.
    let spelled_out = r#"{"room_sid":"RM0000000000000020816d63be6a4ad6a9","first_event":"2026-01-01T00:01:41.045Z",
        "last_event":"2026-01-01T00:01:41.045Z","created_at":"2026-01-01T00:01:41.045Z","ended_at":null,
        "config":{"room_name":{"v":"standup-0521","at":[1767225701045,946999613521603134]},
        "room_type":{"v":"group_small","at":[1767225701045,946999613521603134]},"room_duration":null,
        "media_region":{"v":"de1","at":[1767225701045,946999613521603134]},"edge_location":null,
        "created_method":null,"status_callback":null,"status_callback_method":null,"max_participants":null,
        "max_concurrent_participants":null,"recording_enabled":null,"end_reason":null},
        "participants":{"PA090ca9a0a0ad7169c540f145b39a28c9":{"first_event":"2026-01-01T00:06:11.638Z",
        "connected_at":"2026-01-01T00:06:11.638Z","disconnected_at":null,"identity":null,"duration":null,
        "end_reason":null,"error_code":null,"media_region":null,"edge_location":null,"publisher_info":null,
        "properties":null}},"tracks":{},"recordings":{}}"#;
    let state: RoomState = serde_json::from_str(spelled_out).unwrap();
    let compact = serde_json::to_string(&state).unwrap();
    assert!(!compact.contains("null"), "{compact}");
    let spelled_out_compact = serde_json::from_str::<Value>(spelled_out).unwrap().to_string();
    assert!(compact.len() * 3 < spelled_out_compact.len() * 2, "{compact}");
    assert_eq!(serde_json::from_str::<RoomState>(&compact).unwrap(), state);
    assert_eq!(state.config.room_name.as_ref().map(|r| r.v.as_str()), Some("standup-0521"));
    assert_eq!(state.participants.len(), 1);
}
