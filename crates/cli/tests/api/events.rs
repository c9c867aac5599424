//! `POST /v1/Video/Events` (docs/behaviour.md §4.2–§4.3): acknowledgements, idempotence, order
//! independence, all-or-nothing batches and the limits on what a request may carry.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{at, participant, room, standup, track_sid, With};
use crate::helpers::{spawn_app, spawn_app_with, Settings, TestApp};
use crate::inspect::without_urls;

/// A room's summary and its participants' without per-request URLs, to compare servers.
async fn snapshot(app: &TestApp, room_sid: &str) -> (Value, Vec<Value>) {
    let people = app.participants(room_sid).await.iter().map(without_urls).collect();
    (without_urls(&app.room(room_sid).await), people)
}

#[tokio::test]
async fn events_are_acknowledged_with_202_and_counted() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));

    let single = app.post_events(&lobby.created(&at(0, 0))).await;
    assert_eq!(
        (single.status.as_u16(), single.json()),
        (202, json!({"accepted": 1, "duplicates": 0})),
        "one event object"
    );
    let batch = json!({"events": [lobby.connected(&alice, &at(0, 1)), lobby.disconnected(&alice, &at(0, 9)), lobby.ended(&at(1, 0))]});
    let reply = app.post_events(&batch).await;
    assert_eq!((reply.status.as_u16(), reply.json()), (202, json!({"accepted": 3, "duplicates": 0})), "a batch");
    assert_eq!(app.room(&lobby.sid).await["room_status"], "completed");
}

#[tokio::test]
async fn a_repeated_batch_is_counted_as_duplicates_and_changes_nothing() {
    let app = spawn_app().await;
    let s = standup();
    app.ingest(s.events.clone()).await;
    let before = snapshot(&app, &s.room.sid).await;

    let again = app.ingest(s.events.clone()).await;
    assert_eq!(again, json!({"accepted": 0, "duplicates": s.events.len()}));
    let extra = room("another").created(&at(0, 0));
    let mixed = app.ingest([s.events[3].clone(), extra]).await;
    assert_eq!(mixed, json!({"accepted": 1, "duplicates": 1}), "a batch of one repeat and one new event");
    assert_eq!(snapshot(&app, &s.room.sid).await, before);
}

#[tokio::test]
async fn an_event_id_repeated_is_a_duplicate_whatever_its_content() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1)).with("event_id", "sfu-42")]).await;

    let replay = app.ingest([lobby.connected(&alice, &at(0, 30)).with("event_id", "sfu-42")]).await;
    assert_eq!(replay, json!({"accepted": 0, "duplicates": 1}));
    assert_eq!(app.participants(&lobby.sid).await[0]["join_time"], "2025-10-27T18:00:01Z");
}

#[tokio::test]
async fn events_in_any_order_split_across_requests_give_the_same_summaries() {
    let s = standup();
    let in_order = spawn_app().await;
    in_order.ingest(s.events.clone()).await;
    let expected = snapshot(&in_order, &s.room.sid).await;
    let same_account = Settings { account: Some(in_order.credentials()), ..Settings::default() };

    // Reversed, in batches of three, the first five sent twice.
    let reversed = spawn_app_with(same_account.clone()).await;
    let mut events: Vec<Value> = s.events.iter().rev().cloned().collect();
    events.extend(s.events[..5].iter().cloned());
    for chunk in events.chunks(3) {
        reversed.ingest(chunk.to_vec()).await;
    }
    assert_eq!(snapshot(&reversed, &s.room.sid).await, expected, "reversed in batches, with repeats");

    // Shuffled (seeded, so a failure reproduces), one event per request.
    for seed in [1, 2, 3] {
        let shuffled = spawn_app_with(same_account.clone()).await;
        let mut events = s.events.clone();
        events.shuffle(&mut StdRng::seed_from_u64(seed));
        for event in events {
            shuffled.ingest([event]).await;
        }
        assert_eq!(snapshot(&shuffled, &s.room.sid).await, expected, "shuffled with seed {seed}");
    }
}

#[tokio::test]
async fn a_batch_with_one_bad_event_is_refused_whole_and_names_the_event() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    let cases = [
        ("an unknown room type", lobby.created(&at(0, 2)).with("room_type", "huge")),
        ("a codec outside the vocabulary", lobby.track_added(&alice, &track_sid(), "AV1", &at(0, 2))),
        ("a participant event without participant_sid", lobby.connected(&alice, &at(0, 2)).without("participant_sid")),
        ("a malformed room_sid", lobby.created(&at(0, 2)).with("room_sid", "RM123")),
        ("an unparseable timestamp", lobby.created("yesterday")),
        ("no timestamp", lobby.created(&at(0, 2)).without("timestamp")),
        ("an unknown event", lobby.event("room-exploded", &at(0, 2))),
        ("a negative participant_duration", lobby.disconnected(&alice, &at(0, 2)).with("participant_duration", -5)),
        ("properties that are not an object", lobby.connected(&alice, &at(0, 2)).with("properties", "gold")),
        ("an event that is not an object", json!(42)),
    ];
    for (case, bad) in cases {
        let batch = json!({"events": [lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1)), bad]});
        let message = app.post_events(&batch).await.assert_error(400, 20001, case);
        assert!(message.starts_with("events[2]"), "{case}: the message names the event: {message}");
        app.get(&format!("/v1/Video/Rooms/{}", lobby.sid)).await.assert_error(404, 20404, case);
    }
}

#[tokio::test]
async fn a_batch_holds_at_most_1000_events() {
    let app = spawn_app().await;
    let crowded = room("crowded");
    let joins = |n: usize| -> Vec<Value> {
        let mut events = vec![crowded.created(&at(0, 0))];
        events.extend((1..n).map(|i| crowded.connected(&participant(&format!("guest {i}")), &at(1, (i % 60) as u32))));
        events
    };

    let too_many = app.post_events(&json!({"events": joins(1001)})).await;
    let message = too_many.assert_error(400, 20001, "1001 events");
    assert!(message.contains("1000"), "the message gives the limit: {message}");
    app.get(&format!("/v1/Video/Rooms/{}", crowded.sid)).await.assert_error(404, 20404, "nothing stored");

    assert_eq!(app.ingest(joins(1000)).await, json!({"accepted": 1000, "duplicates": 0}));
    assert_eq!(app.room(&crowded.sid).await["unique_participants"], 999);
}

#[tokio::test]
async fn a_body_over_8_mib_is_refused_with_413() {
    let app = spawn_app().await;
    let mut body = br#"{"padding": ""#.to_vec();
    body.resize(8 * 1024 * 1024 + 1, b'x');
    body.extend_from_slice(br#""}"#);

    let reply =
        app.send(Method::POST, "/v1/Video/Events", Some(&app.credentials()), Some((body, "application/json"))).await;
    reply.assert_error_status(413, "a body of 8 MiB and 3 bytes");
}

#[tokio::test]
async fn callbacks_have_the_same_8_mib_body_limit() {
    let app = spawn_app().await;
    let form = |size: usize| {
        let mut body = format!("AccountSid={}&Padding=", app.account_sid).into_bytes();
        body.resize(size, b'x');
        (body, "application/x-www-form-urlencoded")
    };
    // Read and checked (it is not signed), not refused for its size.
    let three_mib = app.send(Method::POST, "/v1/Video/Callbacks", None, Some(form(3 * 1024 * 1024))).await;
    assert_ne!(three_mib.status.as_u16(), 413, "a 3 MiB callback is within the limit: {}", three_mib.body);
    let too_large = app.send(Method::POST, "/v1/Video/Callbacks", None, Some(form(8 * 1024 * 1024 + 1))).await;
    too_large.assert_error_status(413, "a callback of 8 MiB and 1 byte");
}

#[tokio::test]
async fn a_body_that_is_not_an_event_or_a_batch_is_refused() {
    let app = spawn_app().await;
    for (case, body) in [
        ("not JSON", "this is not json"),
        ("an empty body", ""),
        ("truncated JSON", r#"{"events": [{"event": "room-created""#),
        ("a JSON number", "42"),
        ("a JSON array", "[]"),
        ("events not an array", r#"{"events": 5}"#),
        ("an empty batch", r#"{"events": []}"#),
        ("an empty object", "{}"),
    ] {
        let reply = app
            .send(Method::POST, "/v1/Video/Events", Some(&app.credentials()), Some((body.into(), "application/json")))
            .await;
        reply.assert_error(400, 20001, case);
    }
}

#[tokio::test]
async fn an_event_naming_another_account_is_refused() {
    let app = spawn_app().await;
    let other = app.create_account().await;
    let (mine, theirs) = (room("mine"), room("theirs"));

    let reply = app.post_events(&json!({"events": [mine.created(&at(0, 0)), theirs.created(&at(0, 0)).with("account_sid", &other.username)]})).await;
    let message = reply.assert_error(400, 20001, "account_sid of another account");
    assert!(message.starts_with("events[1]"), "{message}");
    for sid in [&mine.sid, &theirs.sid] {
        app.get(&format!("/v1/Video/Rooms/{sid}")).await.assert_error(404, 20404, "nothing stored for the caller");
        app.get_as(&other, &format!("/v1/Video/Rooms/{sid}")).await.assert_error(
            404,
            20404,
            "nothing stored for the other",
        );
    }
    app.ingest([mine.created(&at(0, 0)).with("account_sid", &app.account_sid)]).await;
}

#[tokio::test]
async fn the_same_batch_sent_concurrently_is_stored_once() {
    let app = spawn_app().await;
    let s = standup();
    let batch = json!({"events": s.events});

    let replies = post_concurrently(&app, &batch, 8).await;

    let (mut accepted, mut duplicates) = (0, 0);
    for reply in &replies {
        assert_eq!(reply.status.as_u16(), 202, "every concurrent copy is acknowledged: {}", reply.body);
        accepted += reply.json()["accepted"].as_u64().expect("a count");
        duplicates += reply.json()["duplicates"].as_u64().expect("a count");
    }
    assert_eq!((accepted, duplicates), (s.events.len() as u64, 7 * s.events.len() as u64));
    assert_eq!(app.room(&s.room.sid).await["total_participant_duration_sec"], 3025);
}

/// Sends `copies` copies of `body` at once.
async fn post_concurrently(app: &TestApp, body: &Value, copies: usize) -> Vec<crate::helpers::Reply> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..copies {
        let (api, body) = (app.clone_api(), body.clone());
        tasks.spawn(async move { api.post_events(&body).await });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn a_batch_of_1000_events_just_under_8_mib_is_accepted() {
    let app = spawn_app().await;
    let (crowded, padding) = (room("crowded"), "x".repeat(8_000));
    let mut events = vec![crowded.created(&at(0, 0))];
    events.extend((1..1000).map(|i| {
        crowded
            .connected(&participant(&format!("guest {i}")), &at(1, 0))
            .with("properties", json!({"padding": padding}))
    }));
    let body = json!({"events": events});
    let size = serde_json::to_vec(&body).expect("JSON").len();
    assert!((8_000_000..8 * 1024 * 1024).contains(&size), "the body is {size} bytes");

    assert_eq!(app.post_events(&body).await.json(), json!({"accepted": 1000, "duplicates": 0}));
}
