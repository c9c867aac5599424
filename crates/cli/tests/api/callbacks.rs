//! Twilio status callbacks over real HTTP (docs/behaviour.md §4.1, §4.3, §5): a hand-built callback
//! stream of two rooms (tests/fixtures), replayed in order, shuffled with duplicates, mixed
//! with the JSON events API, rebuilt from stored events and aged by the lifecycle step.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{Map, Value};

use crate::fixtures::twilio_callbacks;
use crate::helpers::{spawn_app_with, Credentials, Reply, Settings, TestApp};
use crate::inspect::without_urls;

const ROOM_A: &str = "RM00000000000000000000000000000a01";
const ROOM_B: &str = "RM00000000000000000000000000000b01";
const PUBLIC_URL: &str = "http://roomlog.test";

/// The same event as a JSON event: PascalCase names in snake_case, `StatusCallbackEvent` as `event`.
fn as_json_event(params: &[(String, String)]) -> Value {
    let mut event = Map::new();
    for (name, value) in params {
        let mut snake = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        let key = if snake == "status_callback_event" { "event".to_owned() } else { snake };
        event.insert(key, Value::String(value.clone()));
    }
    Value::Object(event)
}

async fn app() -> TestApp {
    let account = roomlog_core::account::Account::generate("callbacks");
    let account = Credentials::new(account.sid.to_string(), account.auth_token);
    spawn_app_with(Settings { public_url: Some(PUBLIC_URL), account: Some(account), ..Settings::default() }).await
}

/// Posts one callback signed as Twilio signs it, for the URL Twilio was given (the public URL).
async fn post_callback(app: &TestApp, params: &[(String, String)]) -> Reply {
    app.post_callback(PUBLIC_URL, params, None).await
}

async fn send_all(app: &TestApp, callbacks: &[Vec<(String, String)>]) {
    for params in callbacks {
        let reply = post_callback(app, params).await;
        assert_eq!(reply.status.as_u16(), 204, "{params:?}: {}", reply.body);
    }
}

/// Both rooms and their participants, as the API serves them.
async fn summaries(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for room in [ROOM_A, ROOM_B] {
        out.push(without_urls(&app.room(room).await));
        out.extend(app.participants(room).await.iter().map(without_urls));
    }
    out
}

/// Summaries of servers with different accounts, made comparable.
fn blank(mut summaries: Vec<Value>) -> Vec<Value> {
    summaries.iter_mut().for_each(|s| s["account_sid"] = Value::Null);
    summaries
}

#[tokio::test]
async fn a_callback_stream_shuffled_with_duplicates_gives_the_in_order_and_hand_checked_summaries() {
    let (in_order, shuffled) = (app().await, app().await);
    send_all(&in_order, &twilio_callbacks(&in_order.account_sid)).await;
    let mut callbacks = twilio_callbacks(&shuffled.account_sid);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let again: Vec<_> = callbacks.choose_multiple(&mut rng, 10).cloned().collect();
    callbacks.extend(again);
    callbacks.shuffle(&mut rng);
    send_all(&shuffled, &callbacks).await;

    assert_eq!(blank(summaries(&shuffled).await), blank(summaries(&in_order).await), "order and repeats do not matter");

    let room = in_order.room(ROOM_A).await;
    let checked = [
        ("create_time", "2025-10-27T18:00:00Z".into()),
        ("end_time", "2025-10-27T18:10:00Z".into()),
        ("duration_sec", 600.into()),
        ("room_type", "group".into()),
        ("unique_participants", 3.into()),
        ("unique_participant_identities", 2.into()),
        ("concurrent_participants", 2.into()),
        ("total_recording_duration_sec", 1587.into()),
        ("total_participant_duration_sec", 1135.into()),
        ("recording_enabled", true.into()),
        ("codecs", serde_json::json!(["VP8", "H264", "opus"])),
    ];
    for (field, value) in checked {
        assert_eq!(room[field], value, "room a01 {field}");
    }
    let durations: Vec<Value> = in_order.participants(ROOM_A).await.iter().map(|p| p["duration_sec"].clone()).collect();
    assert_eq!(durations, [595, 300, 240].map(Value::from), "alice (sent), bob (sent), bob again (until the room end)");
    assert_eq!(in_order.room(ROOM_B).await["room_type"], "peer_to_peer");
}

#[tokio::test]
async fn the_json_events_api_and_callbacks_feeding_one_room_agree_with_either_alone() {
    let (callbacks_only, json_only, mixed) = (app().await, app().await, app().await);
    send_all(&callbacks_only, &twilio_callbacks(&callbacks_only.account_sid)).await;
    json_only.ingest(twilio_callbacks(&json_only.account_sid).iter().map(|p| as_json_event(p))).await;
    let callbacks = twilio_callbacks(&mixed.account_sid);
    let (by_json, by_callback): (Vec<_>, Vec<_>) = callbacks.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    mixed.ingest(by_json.iter().map(|(_, p)| as_json_event(p))).await;
    let by_callback: Vec<_> = by_callback.into_iter().map(|(_, p)| p.clone()).collect();
    send_all(&mixed, &by_callback).await;
    // Everything again through the other path: the same events, recognised as duplicates.
    let replay = mixed.ingest(callbacks.iter().map(|p| as_json_event(p))).await;
    assert_eq!(replay["accepted"], 0, "a callback and its JSON twin are one event: {replay}");

    let reference = blank(summaries(&callbacks_only).await);
    assert_eq!(blank(summaries(&json_only).await), reference, "JSON events alone");
    assert_eq!(blank(summaries(&mixed).await), reference, "half and half");
}

#[tokio::test]
async fn a_rebuild_from_stored_events_equals_what_ingestion_produced() {
    let app = app().await;
    send_all(&app, &twilio_callbacks(&app.account_sid)).await;
    let before = summaries(&app).await;
    let report = app.state.store.rebuild(&app.state.fold, roomlog_core::Millis::now()).await.expect("a rebuild");
    assert_eq!((report.rooms, report.events), (2, 27));
    assert_eq!(summaries(&app).await, before);
}

#[tokio::test]
async fn a_composition_callback_is_stored_but_changes_no_summary() {
    let app = app().await;
    let callbacks = twilio_callbacks(&app.account_sid);
    let (compositions, rest): (Vec<_>, Vec<_>) = callbacks
        .into_iter()
        .partition(|p| p.iter().any(|(k, v)| k == "StatusCallbackEvent" && v.starts_with("composition-")));
    send_all(&app, &rest).await;
    let before = summaries(&app).await;
    assert_eq!(compositions.len(), 1);
    send_all(&app, &compositions).await;
    assert_eq!(summaries(&app).await, before);
}
