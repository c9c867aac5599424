//! Usage over time, `GET /v1/Video/Usage` (docs/behaviour.md §7.1): rows per day or month with zero
//! rows, distinct identities per period, sessions rounded up to minutes, room-type filters, the
//! effective range in `meta`, bad input named, accounts apart.

use serde_json::{json, Value};

use crate::fixtures::{participant, room, room_of_type, With};
use crate::helpers::spawn_app;

fn row<'a>(answer: &'a Value, date: &str) -> &'a Value {
    answer["usage"].as_array().unwrap().iter().find(|r| r["start_date"] == date).unwrap()
}

#[tokio::test]
async fn usage_per_day_and_per_month_counts_what_the_summaries_say() {
    let app = spawn_app().await;
    let (standup, call) = (room("standup"), room_of_type("call", "go"));
    let (alice, bob, alice_again, alice_in_call) =
        (participant("alice"), participant("bob"), participant("alice"), participant("alice"));
    app.ingest([
        standup.created("2025-10-27T09:00:00Z"),
        standup.connected(&alice, "2025-10-27T09:00:10Z"),
        standup.connected(&bob, "2025-10-27T09:00:20Z"),
        standup.disconnected(&alice, "2025-10-27T09:01:11Z").with("participant_duration", 61),
        standup.connected(&alice_again, "2025-10-27T09:02:00Z"),
        standup.disconnected(&alice_again, "2025-10-27T09:03:00Z").with("participant_duration", 60),
        standup.disconnected(&bob, "2025-10-27T09:10:20Z").with("participant_duration", 600),
        standup.ended("2025-10-27T09:10:20Z").with("room_duration", 620),
        call.created("2025-10-29T23:59:59Z"),
        call.connected(&alice_in_call, "2025-10-30T00:00:05Z"),
    ])
    .await;
    let other = app.create_account().await;
    let theirs = room("theirs");
    let reply = app.post_events_as(&other, &json!({"events": [theirs.created("2025-10-27T10:00:00Z")]})).await;
    assert_eq!(reply.json()["accepted"], 1, "{}", reply.body);

    let days = app.get("/v1/Video/Usage?StartDate=2025-10-27&EndDate=2025-10-30").await.ok("by day");
    let dates: Vec<&str> =
        days["usage"].as_array().unwrap().iter().map(|r| r["start_date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2025-10-27", "2025-10-28", "2025-10-29", "2025-10-30"], "oldest first, zero rows included");
    let first = row(&days, "2025-10-27");
    assert_eq!(first["end_date"], "2025-10-27");
    for (field, value) in [
        ("rooms", 1),
        ("completed_rooms", 1),
        ("participant_sessions", 3),
        ("unique_identities", 2),
        ("participant_seconds", 721),
        ("participant_minutes", 2 + 1 + 10),
        ("room_seconds", 620),
        ("recording_seconds", 0),
        ("peak_concurrent_participants", 2),
    ] {
        assert_eq!(first[field], value, "{field}: the other account's room is not counted");
    }
    assert_eq!(first["by_room_type"]["group"]["participant_sessions"], 3);
    assert_eq!(first["by_room_type"].as_object().unwrap().len(), 1);
    let zero = row(&days, "2025-10-28");
    assert_eq!((zero["rooms"].clone(), zero["by_room_type"].clone()), (json!(0), json!({})));
    let late = row(&days, "2025-10-29");
    assert_eq!(
        (late["rooms"].clone(), late["participant_sessions"].clone()),
        (json!(1), json!(1)),
        "counted on its create day"
    );
    assert_eq!((late["completed_rooms"].clone(), late["room_seconds"].clone()), (json!(0), json!(0)));
    assert_eq!(
        days["meta"],
        json!({"key": "usage", "start_date": "2025-10-27", "end_date": "2025-10-30", "granularity": "day",
               "url": format!("{}/v1/Video/Usage?StartDate=2025-10-27&EndDate=2025-10-30&Granularity=day", app.base_url)})
    );

    let month = app.get("/v1/Video/Usage?StartDate=2025-10-15&EndDate=2025-11-03&Granularity=month").await.ok("month");
    let rows = month["usage"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["start_date"].clone(), rows[0]["end_date"].clone()),
        (json!("2025-10-15"), json!("2025-10-31"))
    );
    assert_eq!(
        (rows[1]["start_date"].clone(), rows[1]["end_date"].clone()),
        (json!("2025-11-01"), json!("2025-11-03"))
    );
    assert_eq!(rows[0]["unique_identities"], 2, "alice once in the month, though in two rooms on two days");
    assert_eq!(rows[0]["rooms"], 2);
    assert_eq!(rows[0]["by_room_type"]["go"]["unique_identities"], 1);

    let go = app.get("/v1/Video/Usage?StartDate=2025-10-27&EndDate=2025-10-29&RoomType=go").await.ok("go only");
    assert_eq!(row(&go, "2025-10-27")["rooms"], 0);
    assert_eq!(row(&go, "2025-10-29")["rooms"], 1);
    assert!(go["meta"]["url"].as_str().unwrap().ends_with("&Granularity=day&RoomType=go"));

    let theirs = app.get_as(&other, "/v1/Video/Usage?StartDate=2025-10-27&EndDate=2025-10-27").await.ok("theirs");
    assert_eq!(
        (theirs["usage"][0]["rooms"].clone(), theirs["usage"][0]["participant_sessions"].clone()),
        (json!(1), json!(0))
    );
}

#[tokio::test]
async fn the_default_range_is_the_last_thirty_days_and_bad_parameters_are_named() {
    let app = spawn_app().await;
    let recent = app.get("/v1/Video/Usage").await.ok("defaults");
    assert_eq!(recent["usage"].as_array().unwrap().len(), 30);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(recent["meta"]["end_date"], today.as_str());
    for (query, param) in [
        ("StartDate=2025-1-01", "StartDate"),
        ("EndDate=tomorrow", "EndDate"),
        ("StartDate=2025-03-02&EndDate=2025-03-01", "EndDate"),
        ("StartDate=2024-01-01&EndDate=2025-01-01", "StartDate"),
        ("StartDate=2015-01-01&EndDate=2025-01-01&Granularity=month", "StartDate"),
        ("Granularity=week", "Granularity"),
        ("RoomType=huge", "RoomType"),
    ] {
        let message = app.get(&format!("/v1/Video/Usage?{query}")).await.assert_error(400, 20001, query);
        assert!(message.contains(param), "{query}: the message names {param}: {message}");
    }
    let most = app.get("/v1/Video/Usage?StartDate=2024-01-01&EndDate=2024-12-31").await.ok("366 days");
    assert_eq!(most["usage"].as_array().unwrap().len(), 366);
    app.get_unauthenticated("/v1/Video/Usage").await.assert_error(401, 20003, "no credentials");
}
