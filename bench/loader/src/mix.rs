//! The realistic mix of rooms the benchmark loads: deterministic from a seed, spread over 90
//! days, as the JSON events (docs/behaviour.md §4.2) a media server would send for each room.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roomlog_core::{AccountEvent, AccountSid, Millis, RoomEvent};
use serde_json::{json, Value};

/// The last instant of the loaded history: fixed, so every load of the same size is identical.
pub const END: Millis = Millis(1_767_225_600_000); // 2026-01-01T00:00:00Z
pub const DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

/// The benchmark's account and its auth token (also the callbacks' HMAC key).
pub const ACCOUNT_SID: &str = "ACbeac0000000000000000000000000001";
pub const AUTH_TOKEN: &str = "bench0auth0token0000000000000001";

/// Room names that recur (daily stand-ups, weekly reviews); 30 % of rooms use one of them.
pub const RECURRING_NAMES: u64 = 2_000;

fn hex_sid(prefix: &str, a: u64, b: u64) -> String {
    format!("{prefix}{a:016x}{b:016x}")
}

/// SplitMix64: spreads a counter into well-mixed bits, so SIDs look random yet are stable.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pick<'a, T>(rng: &mut StdRng, weighted: &'a [(T, u32)]) -> &'a T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (value, weight) in weighted {
        if roll < *weight {
            return value;
        }
        roll -= weight;
    }
    &weighted[weighted.len() - 1].0
}

const ROOM_TYPES: &[(&str, u32)] = &[("group", 55), ("group-small", 20), ("peer-to-peer", 15), ("go", 10)];
const REGIONS: &[(&str, u32)] = &[("us1", 50), ("ie1", 20), ("de1", 10), ("sg1", 8), ("au1", 6), ("jp1", 6)];
const PARTICIPANTS: &[(u32, u32)] = &[(1, 10), (2, 40), (3, 20), (4, 12), (5, 8), (6, 5), (8, 3), (12, 2)];

/// The `n`-th room of a load (`0..rooms`) as its JSON events, in no particular order.
/// One room in a thousand has a participant whose video is VP9: the rare codec.
pub fn room_events(n: u64, rooms: u64) -> Vec<Value> {
    // Evenly over 90 days, newest last; ended well before END.
    let span = DAYS * DAY_MS - 6 * 3_600_000;
    let created = END.0 - DAYS * DAY_MS + (span as u128 * u128::from(n) / u128::from(rooms.max(1))) as i64;
    room_events_at(n, created)
}

/// The `n`-th room of the mix, created (give or take a minute) at `created` ms.
pub fn room_events_at(n: u64, created: i64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(mix(n));
    let room_sid = hex_sid("RM", mix(n ^ 0x5151), mix(n ^ 0xa7a7));
    let created = created + rng.gen_range(0..60_000);
    let room_type = *pick(&mut rng, ROOM_TYPES);
    let name = if rng.gen_bool(0.3) {
        format!("standup-{:04}", rng.gen_range(0..RECURRING_NAMES))
    } else {
        format!("room-{n:08}")
    };
    let region = *pick(&mut rng, REGIONS);
    let people = if room_type == "peer-to-peer" || room_type == "go" { 2 } else { *pick(&mut rng, PARTICIPANTS) };
    let rare = mix(n ^ 0x0dd).is_multiple_of(1000);
    let length = rng.gen_range(120_000..5_400_000i64);
    let ended = created + length;
    let base = |kind: &str, at: i64| {
        json!({
            "event": kind, "timestamp": Millis(at).to_rfc3339_millis(), "room_sid": room_sid,
            "room_name": name, "room_type": room_type, "room_status": "in-progress",
        })
    };
    let mut events = Vec::with_capacity(2 + people as usize * 4);
    let mut created_event = base("room-created", created);
    created_event["media_region"] = json!(region);
    created_event["created_method"] = json!("sdk");
    created_event["max_participants"] = json!(if room_type == "group" { 50 } else { 4 });
    created_event["status_callback"] = json!("https://example.com/video/status");
    created_event["status_callback_method"] = json!("POST");
    events.push(created_event);
    for p in 0..u64::from(people) {
        let sid = hex_sid("PA", mix(n ^ (p << 40) ^ 0x1111), mix(n ^ (p << 40) ^ 0x2222));
        let joined = created + rng.gen_range(0..length / 4);
        let left = (joined + rng.gen_range(30_000..length)).min(ended);
        let identity = format!("user-{}", rng.gen_range(0..50_000));
        let mut push = |kind: &str, at: i64, extra: &[(&str, Value)]| {
            let mut event = base(kind, at);
            event["participant_sid"] = json!(sid);
            event["participant_identity"] = json!(identity);
            event["participant_status"] =
                json!(if kind == "participant-disconnected" { "disconnected" } else { "connected" });
            for (key, value) in extra {
                event[*key] = value.clone();
            }
            events.push(event);
        };
        push("participant-connected", joined, &[]);
        if rng.gen_bool(0.95) {
            let track = hex_sid("MT", mix(n ^ (p << 40) ^ 0x3333), 1);
            push(
                "track-added",
                joined + 900,
                &[("track_sid", json!(track)), ("track_kind", json!("audio")), ("codec", json!("OPUS"))],
            );
        }
        if rng.gen_bool(0.8) || (rare && p == 0) {
            let codec = if rare && p == 0 {
                "VP9"
            } else if rng.gen_bool(0.7) {
                "VP8"
            } else {
                "H264"
            };
            let track = hex_sid("MT", mix(n ^ (p << 40) ^ 0x4444), 2);
            push(
                "track-added",
                joined + 1_300,
                &[("track_sid", json!(track)), ("track_kind", json!("video")), ("codec", json!(codec))],
            );
        }
        push("participant-disconnected", left, &[("participant_duration", json!((left - joined) / 1000))]);
    }
    let mut ended_event = base("room-ended", ended);
    ended_event["room_status"] = json!("completed");
    ended_event["room_duration"] = json!(length / 1000);
    events.push(ended_event);
    events
}

/// The events as the JSON events endpoint turns them into `AccountEvent`s (no `event_id`: the
/// identity is the digest, as for callbacks).
pub fn account_events(account: &AccountSid, raw: Vec<Value>) -> Vec<AccountEvent> {
    raw.into_iter()
        .map(|value| {
            let event: RoomEvent = serde_json::from_value(value.clone()).expect("the mix produces valid events");
            AccountEvent::new(account.clone(), None, event, "json", value.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_deterministic_and_valid() {
        let account: AccountSid = ACCOUNT_SID.parse().unwrap();
        assert_eq!(room_events(7, 100), room_events(7, 100));
        for n in 0..200 {
            for event in account_events(&account, room_events(n, 200)) {
                event.event.validate().unwrap();
                assert!(event.event.timestamp < END);
            }
        }
    }

    #[test]
    fn about_one_room_in_a_thousand_uses_the_rare_codec() {
        let rare = (0..100_000u64).filter(|n| mix(n ^ 0x0dd).is_multiple_of(1000)).count();
        assert!((70..130).contains(&rare), "{rare}");
    }
}
