//! How each summary field is derived (docs/behaviour.md §5), checked through the API against rooms
//! worked out by hand, and the lifecycle: settle window and room timeout.

use roomlog_core::Millis;
use serde_json::{json, Value};

use crate::fixtures::{ago, api_time, at, participant, room, room_of_type, standup, track_sid, With};
use crate::helpers::{spawn_app, spawn_app_with, Settings, TestApp};

/// Runs one lifecycle pass as if the clock read `now + seconds` (the background task's step).
async fn run_lifecycle_in(app: &TestApp, seconds: i64) {
    roomlog_server::lifecycle::step(app.state.store.as_ref(), &app.state.fold, Millis::now().plus_ms(seconds * 1000))
        .await
        .expect("a lifecycle step");
}

#[tokio::test]
async fn a_room_with_rejoins_is_summarised_as_worked_out_by_hand() {
    let app = spawn_app().await;
    let s = standup();
    app.ingest(s.events.clone()).await;

    let url = format!("{}/v1/Video/Rooms/{}", app.base_url, s.room.sid);
    let expected = json!({
        "account_sid": app.account_sid, "room_sid": s.room.sid, "room_name": "Daily standup",
        "create_time": "2025-10-27T18:00:00Z", "end_time": "2025-10-27T18:30:00Z",
        "room_type": "group", "room_status": "completed",
        "status_callback": null, "status_callback_method": null, "created_method": null, "end_reason": null,
        "max_participants": null,
        "unique_participants": 4,           // a re-join has a new SID
        "unique_participant_identities": 3, // alice, bob, carol
        "concurrent_participants": 2,       // leaves count before joins at the same instant
        "max_concurrent_participants": null,
        "codecs": ["VP8", "H264", "opus"],  // enum order, OPUS read as opus
        "media_region": null,
        "duration_sec": 1800,               // 18:00:00.250 → 18:30:00.900, rounded down
        "total_participant_duration_sec": 3025, // 300 (sent) + 1795 + 420 + 510
        "total_recording_duration_sec": 420,    // 300 + 120
        "processing_state": "complete",     // settle window 0
        "recording_enabled": true,          // a recording started
        "edge_location": null,
        "url": url, "links": {"participants": format!("{url}/Participants")},
    });
    assert_eq!(app.room(&s.room.sid).await, expected);

    let person = |p: &crate::fixtures::Participant, join: &str, leave: &str, duration: i64, codecs: Value| {
        json!({
            "participant_sid": p.sid, "participant_identity": p.identity,
            "join_time": join, "leave_time": leave, "duration_sec": duration,
            "account_sid": app.account_sid, "room_sid": s.room.sid, "status": "completed", "codecs": codecs,
            "end_reason": null, "error_code": null, "error_code_url": null, "media_region": null,
            "properties": null, "edge_location": null, "publisher_info": null,
            "url": format!("{url}/Participants/{}", p.sid),
        })
    };
    let expected = vec![
        person(&s.alice, "2025-10-27T18:00:01Z", "2025-10-27T18:05:00Z", 300, json!([])),
        // Still connected when the room ended: leaves with it; 18:00:05 → 18:30:00.900.
        person(&s.bob, "2025-10-27T18:00:05Z", "2025-10-27T18:30:00Z", 1795, json!(["VP8", "opus"])),
        person(&s.carol, "2025-10-27T18:05:00Z", "2025-10-27T18:12:00Z", 420, json!(["H264"])),
        person(&s.alice_again, "2025-10-27T18:12:00Z", "2025-10-27T18:20:30Z", 510, json!([])),
    ];
    assert_eq!(app.participants(&s.room.sid).await, expected);
}

#[tokio::test]
async fn configuration_fields_and_sent_durations_are_reported_as_given() {
    let app = spawn_app().await;
    let (studio, alice) = (room_of_type("studio", "peer-to-peer"), participant("alice"));
    let created = studio
        .created(&at(0, 0))
        .with("media_region", "us1")
        .with("edge_location", "ashburn")
        .with("created_method", "api")
        .with("status_callback", "https://example.com/status")
        .with("status_callback_method", "POST")
        .with("max_participants", 50)
        .with("max_concurrent_participants", 10)
        .with("recording_enabled", true);
    let joined = studio
        .connected(&alice, &at(0, 1))
        .with("media_region", "de1")
        .with("edge_location", "frankfurt")
        .with("publisher_info", json!({"sdk": "twilio-video.js"}))
        .with("properties", json!({"tier": "gold"}));
    let left = studio
        .disconnected(&alice, &at(0, 20))
        .with("end_reason", "participant_disconnected")
        .with("error_code", 53205);
    let ended = studio.ended(&at(1, 0)).with("room_duration", 42).with("end_reason", "room_ended_via_api");
    app.ingest([created, joined, left, ended]).await;

    let summary = app.room(&studio.sid).await;
    let fields = [
        ("room_type", json!("peer_to_peer")),
        ("media_region", json!("us1")),
        ("edge_location", json!("ashburn")),
        ("created_method", json!("api")),
        ("status_callback", json!("https://example.com/status")),
        ("status_callback_method", json!("POST")),
        ("max_participants", json!(50)),
        ("max_concurrent_participants", json!(10)),
        ("recording_enabled", json!(true)),
        ("duration_sec", json!(42)),
        ("end_reason", json!("room_ended_via_api")),
        ("total_recording_duration_sec", json!(0)),
        ("codecs", json!([])),
    ];
    for (field, value) in fields {
        assert_eq!(summary[field], value, "room.{field}");
    }
    let person = &app.participants(&studio.sid).await[0];
    let fields = [
        ("media_region", json!("de1")),
        ("edge_location", json!("frankfurt")),
        ("publisher_info", json!({"sdk": "twilio-video.js"})),
        ("properties", json!({"tier": "gold"})),
        ("end_reason", json!("participant_disconnected")),
        ("error_code", json!(53205)),
        ("duration_sec", json!(19)),
    ];
    for (field, value) in fields {
        assert_eq!(person[field], value, "participant.{field}");
    }
    assert!(person["error_code_url"].as_str().is_some_and(|u| u.contains("53205")), "error_code_url");
}

#[tokio::test]
async fn a_room_in_progress_has_no_end_time_and_no_duration() {
    let app = spawn_app().await;
    let (live, alice, bob) = (room("live"), participant("alice"), participant("bob"));
    app.ingest([
        live.created(&at(0, 0)),
        live.connected(&alice, &at(0, 1)),
        live.track_added(&alice, &track_sid(), "VP9", &at(0, 2)),
        live.connected(&bob, &at(0, 3)),
        live.disconnected(&bob, "2025-10-27T18:00:45.999Z"),
    ])
    .await;

    let summary = app.room(&live.sid).await;
    for (field, value) in [
        ("end_time", Value::Null),
        ("duration_sec", Value::Null),
        ("room_status", json!("in_progress")),
        ("processing_state", json!("in_progress")),
        ("recording_enabled", json!(false)),
        ("concurrent_participants", json!(2)),
        ("total_participant_duration_sec", json!(42)),
        ("codecs", json!(["VP9"])),
    ] {
        assert_eq!(summary[field], value, "room.{field}");
    }
    let people = app.participants(&live.sid).await;
    assert_eq!(
        (&people[0]["leave_time"], &people[0]["duration_sec"], &people[0]["status"]),
        (&Value::Null, &Value::Null, &json!("in_progress"))
    );
    assert_eq!(
        (&people[1]["leave_time"], &people[1]["duration_sec"], &people[1]["status"]),
        (&json!("2025-10-27T18:00:45Z"), &json!(42), &json!("completed"))
    );
}

#[tokio::test]
async fn an_ended_room_stays_in_progress_until_the_settle_window_has_passed() {
    let app = spawn_app_with(Settings { settle_window: "5m", ..Settings::default() }).await;
    let (settling, settled) = (room("settling"), room("settled"));
    app.ingest([
        settling.created(&ago(600)),
        settling.ended(&ago(60)),
        settled.created(&ago(1200)),
        settled.ended(&ago(900)),
    ])
    .await;

    let summary = app.room(&settling.sid).await;
    assert_eq!((&summary["room_status"], &summary["processing_state"]), (&json!("completed"), &json!("in_progress")));
    assert_eq!(app.room(&settled.sid).await["processing_state"], "complete", "ended 15 minutes ago");

    run_lifecycle_in(&app, 10 * 60).await;
    assert_eq!(app.room(&settling.sid).await["processing_state"], "complete", "after the window");
}

#[tokio::test]
async fn a_room_silent_for_the_room_timeout_is_closed_at_its_last_event() {
    let app = spawn_app_with(Settings { room_timeout: "1h", ..Settings::default() }).await;
    let (abandoned, quiet, alice) = (room("abandoned"), room("quiet"), participant("alice"));
    let last = ago(2 * 3600);
    app.ingest([
        abandoned.created(&ago(3 * 3600)),
        abandoned.connected(&alice, &ago(3 * 3600 - 10)),
        abandoned.track_added(&alice, &track_sid(), "VP8", &last),
        quiet.created(&ago(30 * 60)),
    ])
    .await;

    let summary = app.room(&abandoned.sid).await;
    assert_eq!(summary["processing_state"], "timeout");
    assert_eq!(summary["room_status"], "completed");
    assert_eq!(summary["end_time"], api_time(&last), "closed at its last event");
    assert_eq!(summary["end_reason"], serde_json::Value::Null, "no event gave an end reason (docs/behaviour.md §5)");
    let alice = &app.participants(&abandoned.sid).await[0];
    assert_eq!(alice["leave_time"], api_time(&last), "a participant still connected leaves with the room");

    assert_eq!(app.room(&quiet.sid).await["processing_state"], "in_progress", "silent for 30 minutes");
    run_lifecycle_in(&app, 2 * 3600).await;
    assert_eq!(app.room(&quiet.sid).await["processing_state"], "timeout", "silent for the room timeout");
}

#[tokio::test]
async fn a_room_without_room_created_starts_at_its_earliest_event() {
    let app = spawn_app().await;
    let (late, alice) = (room("joined late"), participant("alice"));
    app.ingest([late.disconnected(&alice, &at(5, 0)), late.connected(&alice, "2025-10-27T18:01:00.500Z")]).await;

    let summary = app.room(&late.sid).await;
    assert_eq!(summary["create_time"], "2025-10-27T18:01:00Z");
    assert_eq!(app.participants(&late.sid).await[0]["duration_sec"], 239, "18:01:00.500 → 18:05:00");
}

#[tokio::test]
async fn a_participant_reported_leaving_after_the_room_ended_leaves_with_the_room() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([
        lobby.created(&at(0, 0)),
        lobby.connected(&alice, &at(0, 10)),
        lobby.ended(&at(10, 0)),
        lobby.disconnected(&alice, &at(12, 0)), // a late callback
    ])
    .await;

    let alice = &app.participants(&lobby.sid).await[0];
    assert_eq!((&alice["leave_time"], &alice["duration_sec"]), (&json!("2025-10-27T18:10:00Z"), &json!(590)));
    assert_eq!(app.room(&lobby.sid).await["total_participant_duration_sec"], 590);
}

#[tokio::test]
async fn the_retention_pass_deletes_rooms_older_than_the_period_and_keeps_the_rest() {
    let app = spawn_app().await;
    let (old, recent) = (room("old"), room("recent"));
    app.ingest([old.created(&ago(40 * 86_400)), recent.created(&ago(10 * 86_400))]).await;
    let thirty_days = 30 * 86_400 * 1000;
    assert_eq!(
        roomlog_server::lifecycle::expire(app.state.store.as_ref(), 0, Millis::now()).await.unwrap(),
        0,
        "0 keeps all"
    );
    let purged = roomlog_server::lifecycle::expire(app.state.store.as_ref(), thirty_days, Millis::now()).await.unwrap();
    assert_eq!(purged, 1);
    app.get(&format!("/v1/Video/Rooms/{}", old.sid)).await.assert_error(404, 20404, "past the retention period");
    app.get(&format!("/v1/Video/Rooms/{}", recent.sid)).await.ok("within the retention period");
}
