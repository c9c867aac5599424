//! The fold's cost (docs/design.md, "The flow"): a whole room folded from scratch (rebuild, import), and
//! the ingest step `update`, one new event on a stored state (every callback pays it).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use roomlog_core::fold::update::update;
use roomlog_core::{fold, AccountSid, FoldSettings, Millis, RoomEvent, RoomSid};
use serde_json::json;

const SETTINGS: FoldSettings = FoldSettings { settle_window_ms: 300_000, room_timeout_ms: 86_400_000 };
const T0: i64 = 1_761_588_000_000;

/// A finished group room: created, `people` participants each with an audio and a video track,
/// then ended; `(event_id, event)` pairs as stored.
fn room(people: usize) -> Vec<(String, RoomEvent)> {
    let room = "RM0123456789abcdef0123456789abcdef";
    let at = |ms: i64| Millis(T0 + ms).to_rfc3339_millis();
    let mut raw = vec![json!({"event": "room-created", "timestamp": at(0), "room_sid": room,
                              "room_name": "standup", "room_type": "group", "media_region": "us1"})];
    for p in 0..people {
        let sid = format!("PA{p:032x}");
        let joined = 1_000 * p as i64;
        let participant = |kind: &str, ms: i64| {
            json!({"event": kind, "timestamp": at(ms), "room_sid": room, "participant_sid": sid,
                   "participant_identity": format!("user-{p}")})
        };
        raw.push(participant("participant-connected", joined));
        for (n, (kind, codec)) in [("audio", "OPUS"), ("video", "VP8")].into_iter().enumerate() {
            let mut track = participant("track-added", joined + 500);
            track["track_sid"] = json!(format!("MT{p:030x}{n:02}"));
            track["track_kind"] = json!(kind);
            track["codec"] = json!(codec);
            raw.push(track);
        }
        let mut left = participant("participant-disconnected", 600_000 + joined);
        left["participant_duration"] = json!(600);
        raw.push(left);
    }
    raw.push(json!({"event": "room-ended", "timestamp": at(700_000), "room_sid": room, "room_duration": 700}));
    raw.into_iter()
        .enumerate()
        .map(|(i, value)| (format!("e{i}"), serde_json::from_value(value).expect("a valid event")))
        .collect()
}

fn benches(c: &mut Criterion) {
    let account: AccountSid = "AC0123456789abcdef0123456789abcdef".parse().expect("a SID");
    let now = Millis(T0 + 86_400_000);
    let mut group = c.benchmark_group("fold");
    for people in [3, 50] {
        let events = room(people);
        group.bench_with_input(BenchmarkId::new("whole_room", people), &events, |b, events| {
            b.iter(|| fold(&account, events.iter().map(|(id, e)| (id.as_str(), e)), &SETTINGS, now))
        });
        // Ingest: all but the last event are folded into the stored state; the last one arrives.
        let (last, earlier) = events.split_last().expect("events");
        let room: RoomSid = last.1.room_sid.clone();
        let stored = update(&account, &room, None, earlier.iter().map(|(id, e)| (id.as_str(), e)), &SETTINGS, now)
            .expect("folds")
            .state_json;
        group.bench_with_input(BenchmarkId::new("ingest_one_event", people), &stored, |b, stored| {
            b.iter(|| update(&account, &room, Some(black_box(stored)), [(last.0.as_str(), &last.1)], &SETTINGS, now))
        });
    }
    group.finish();
}

criterion_group!(fold_benches, benches);
criterion_main!(fold_benches);
