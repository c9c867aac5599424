//! `roomlog rooms …` and `roomlog participants …`: the real binary as a client of a running
//! server. JSON is the API's objects, CSV parses back to them, the table is a reviewed snapshot.

use serde_json::Value;

use crate::binary::{roomlog, Run};
use crate::fixtures::{at, rooms_one_second_apart, Participant, Room};
use crate::helpers::{spawn_app, Credentials, TestApp};
use crate::inspect::without_urls;

/// Runs a client command against `app` with credentials from the environment.
async fn client(app: &TestApp, args: &[&str]) -> Run {
    client_as(app, &app.credentials(), args).await
}

async fn client_as(app: &TestApp, credentials: &Credentials, args: &[&str]) -> Run {
    let env = [
        ("ROOMLOG_URL", app.base_url.as_str()),
        ("ROOMLOG_ACCOUNT_SID", credentials.username.as_str()),
        ("ROOMLOG_AUTH_TOKEN", credentials.secret.as_str()),
    ];
    roomlog(args, &env).await
}

fn json(run: &Run, case: &str) -> Value {
    serde_json::from_str(run.ok(case)).unwrap_or_else(|e| panic!("{case}: not JSON ({e}): {}", run.stdout))
}

fn sid_list(items: &Value, key: &str) -> Vec<String> {
    items.as_array().expect("an array").iter().map(|i| i[key].as_str().expect("a SID").to_owned()).collect()
}

/// Two rooms with fixed SIDs and instants, so that the table can be compared byte for byte.
async fn fixed_rooms(app: &TestApp) {
    let standup = Room { sid: format!("RM{:032}", 1), name: "Daily standup".into(), room_type: "group".into() };
    let call = Room { sid: format!("RM{:032}", 2), name: "support call".into(), room_type: "go".into() };
    let alice = Participant { sid: format!("PA{:032}", 1), identity: "alice".into() };
    let bob = Participant { sid: format!("PA{:032}", 2), identity: "bob".into() };
    let (video, audio) = (format!("MT{:032}", 1), format!("MT{:032}", 2));
    app.ingest([
        standup.created("2025-10-27T18:00:00Z"),
        standup.connected(&alice, "2025-10-27T18:00:05Z"),
        standup.track_added(&alice, &video, "VP8", "2025-10-27T18:00:06Z"),
        standup.connected(&bob, "2025-10-27T18:01:00Z"),
        standup.track_added(&bob, &audio, "OPUS", "2025-10-27T18:01:01Z"),
        standup.disconnected(&alice, "2025-10-27T18:30:00Z"),
        standup.ended("2025-10-27T19:02:30Z"),
        call.created("2025-10-27T20:00:00Z"),
    ])
    .await;
}

#[tokio::test]
async fn json_output_is_the_api_objects_in_one_array() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(3);
    app.ingest(events).await;
    let listed = json(&client(&app, &["rooms", "list", "--format", "json"]).await, "rooms list");
    let served = app.get("/v1/Video/Rooms").await.ok("the API's list");
    assert_eq!(listed, served["rooms"], "the same objects, in the same order");

    let sid = listed[0]["room_sid"].as_str().unwrap();
    let fetched = json(&client(&app, &["rooms", "get", sid, "--format", "json"]).await, "rooms get");
    assert_eq!(fetched, app.room(sid).await);
}

#[tokio::test]
async fn lists_follow_next_page_urls_up_to_the_limit() {
    let app = spawn_app().await;
    let (rooms, events) = rooms_one_second_apart(7);
    app.ingest(events).await;
    let newest_first: Vec<String> = rooms.iter().rev().map(|r| r.sid.clone()).collect();
    for (limit, expected) in [("5", 5), ("0", 7), ("50", 7)] {
        let args = ["rooms", "list", "--format", "json", "--page-size", "2", "--limit", limit];
        let listed = json(&client(&app, &args).await, limit);
        assert_eq!(sid_list(&listed, "room_sid"), newest_first[..expected], "--limit {limit}");
    }
}

#[tokio::test]
async fn every_filter_is_a_flag_with_the_api_meaning() {
    let app = spawn_app().await;
    let go = Room { room_type: "go".into(), ..crate::fixtures::room("one to one") };
    let group = crate::fixtures::room("team");
    let small = Room { room_type: "group-small".into(), ..crate::fixtures::room("team") };
    let mut events = go.with_codecs(&at(0, 0), &["H264"]);
    events.extend(group.with_codecs(&at(10, 0), &["VP8", "OPUS"]));
    events.extend(small.with_codecs(&at(20, 0), &["VP9"]));
    app.ingest(events).await;
    for (args, query) in [
        (vec!["--room-type", "go", "--room-type", "group-small"], "RoomType=go&RoomType=group_small"),
        (vec!["--codec", "opus", "--codec", "H264"], "Codec=opus&Codec=H264"),
        (vec!["--room-name", "team"], "RoomName=team"),
        (vec!["--created-after", "2025-10-27T18:05:00Z"], "CreatedAfter=2025-10-27T18:05:00Z"),
        (vec!["--created-before", "2025-10-27T18:10:00Z"], "CreatedBefore=2025-10-27T18:10:00Z"),
    ] {
        let mut command = vec!["rooms", "list", "--format", "json"];
        command.extend(&args);
        let listed = json(&client(&app, &command).await, query);
        assert_eq!(sid_list(&listed, "room_sid"), app.room_sids(query).await, "{args:?} is {query}");
        assert!(!listed.as_array().unwrap().is_empty(), "{query} matches some room");
    }
}

#[tokio::test]
async fn relative_dates_count_back_from_now() {
    let app = spawn_app().await;
    let (recent, old) = (crate::fixtures::room("recent"), crate::fixtures::room("old"));
    app.ingest([recent.created(&crate::fixtures::ago(3600)), old.created(&crate::fixtures::ago(3 * 86_400))]).await;
    let listed = json(&client(&app, &["rooms", "list", "--format", "json", "--created-after", "2d"]).await, "2d");
    assert_eq!(sid_list(&listed, "room_sid"), [recent.sid]);
    let args = ["rooms", "list", "--format", "json", "--created-after", "7d", "--created-before", "12h"];
    assert_eq!(sid_list(&json(&client(&app, &args).await, "7d..12h"), "room_sid"), [old.sid]);
}

#[tokio::test]
async fn participants_are_listed_and_fetched_as_the_api_serves_them() {
    let app = spawn_app().await;
    let standup = crate::fixtures::standup();
    app.ingest(standup.events.clone()).await;
    let room = standup.room.sid.as_str();
    let listed = json(&client(&app, &["participants", "list", room, "--format", "json"]).await, "list");
    assert_eq!(listed.as_array().unwrap(), &app.participants(room).await);
    let one = standup.bob.sid.as_str();
    let fetched = json(&client(&app, &["participants", "get", room, one, "--format", "json"]).await, "get");
    assert_eq!(fetched, app.get(&format!("/v1/Video/Rooms/{room}/Participants/{one}")).await.ok("get"));
}

#[tokio::test]
async fn one_identity_s_sessions_are_searched_across_rooms_and_paged_through() {
    let app = spawn_app().await;
    let (lobby, hall) = (crate::fixtures::room("lobby"), crate::fixtures::room("hall"));
    let sessions: Vec<Participant> = (0..3).map(|_| crate::fixtures::participant("erin")).collect();
    app.ingest([
        lobby.created(&at(0, 0)),
        lobby.connected(&sessions[0], &at(0, 1)),
        hall.created(&at(1, 0)),
        hall.connected(&sessions[1], &at(1, 5)),
        lobby.connected(&sessions[2], &at(2, 0)),
        hall.connected(&crate::fixtures::participant("frank"), &at(2, 1)),
    ])
    .await;
    let served = app.get("/v1/Video/Participants?Identity=erin").await.ok("the API");
    // One item per request: the client follows next_page_url to the end.
    let args = ["participants", "search", "--identity", "erin", "--page-size", "1", "--limit", "0", "--format", "json"];
    let found = json(&client(&app, &args).await, "search");
    assert_eq!(found, served["participants"], "every session, newest first, as the API serves them");
    assert_eq!(sid_list(&found, "participant_sid"), [sessions[2].sid.as_str(), &sessions[1].sid, &sessions[0].sid]);
    let args = [
        "participants",
        "search",
        "--identity",
        "erin",
        "--created-before",
        "2025-10-27T18:02:00Z",
        "--format",
        "json",
    ];
    assert_eq!(
        sid_list(&json(&client(&app, &args).await, "before"), "participant_sid"),
        [sessions[1].sid.as_str(), &sessions[0].sid]
    );
}

#[tokio::test]
async fn usage_is_printed_as_the_api_serves_it_in_every_format() {
    let app = spawn_app().await;
    fixed_rooms(&app).await;
    let range = ["--start-date", "2025-10-26", "--end-date", "2025-10-28"];
    let served = app.get("/v1/Video/Usage?StartDate=2025-10-26&EndDate=2025-10-28").await.ok("the API");
    let args: Vec<&str> = ["usage"].into_iter().chain(range).chain(["--format", "json"]).collect();
    let printed = json(&client(&app, &args).await, "usage json");
    assert_eq!(printed, served["usage"], "the rows as served");
    assert_eq!(printed.as_array().unwrap().len(), 3);
    assert!(printed[1]["rooms"].as_i64().unwrap() >= 1, "the fixed rooms are on 2025-10-27: {printed}");

    let args: Vec<&str> = ["usage"].into_iter().chain(range).chain(["--format", "csv"]).collect();
    let csv_text = client(&app, &args).await;
    let mut reader = csv::Reader::from_reader(csv_text.ok("usage csv").as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(headers[..3], ["start_date", "end_date", "rooms"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][column("participant_minutes")], printed[1]["participant_minutes"].to_string());
    assert_eq!(rows[1][column("by_room_type")], printed[1]["by_room_type"].to_string());

    let args = [
        "usage",
        "--start-date",
        "2025-10-01",
        "--end-date",
        "2025-11-30",
        "--granularity",
        "month",
        "--room-type",
        "go",
        "--format",
        "table",
    ];
    let table = client(&app, &args).await;
    let lines: Vec<&str> = table.ok("usage table").lines().collect();
    assert!(lines[0].starts_with("START") && lines[0].contains("IDENTITIES"), "{lines:?}");
    assert_eq!(lines.len(), 3, "a header and one row per month: {lines:?}");
    assert!(lines[1].starts_with("2025-10-01  2025-10-31  1 "), "one go room in October: {lines:?}");
}

/// CSV cells parse back to the API's values: text as is, null empty, codecs space-separated.
fn assert_csv_matches(csv_text: &str, items: &[Value], case: &str) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a CSV row")).collect();
    assert_eq!(rows.len(), items.len(), "{case}: one row per object");
    for (row, item) in rows.iter().zip(items) {
        let keys: Vec<&String> = item.as_object().unwrap().keys().filter(|k| k.as_str() != "links").collect();
        assert_eq!(headers.len(), keys.len(), "{case}: every field but links is a column");
        for (header, cell) in headers.iter().zip(row) {
            let expected = match &item[header] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                Value::Array(list) => list.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>().join(" "),
                other => other.to_string(),
            };
            assert_eq!(cell, expected, "{case}: column {header}");
        }
    }
}

#[tokio::test]
async fn csv_output_parses_back_to_the_api_fields() {
    let app = spawn_app().await;
    let standup = crate::fixtures::standup();
    app.ingest(standup.events.clone()).await;
    fixed_rooms(&app).await;
    let csv = client(&app, &["rooms", "list", "--format", "csv"]).await;
    let served = app.get("/v1/Video/Rooms").await.ok("list");
    assert_csv_matches(csv.ok("rooms csv"), served["rooms"].as_array().unwrap(), "rooms");
    let room = standup.room.sid.as_str();
    let csv = client(&app, &["participants", "list", room, "--format", "csv"]).await;
    assert_csv_matches(csv.ok("participants csv"), &app.participants(room).await, "participants");
    let csv = client(&app, &["rooms", "get", room, "--format", "csv"]).await;
    assert_csv_matches(csv.ok("one room"), &[app.room(room).await], "rooms get");
}

#[tokio::test]
async fn table_output_is_aligned_with_human_durations() {
    let app = spawn_app().await;
    fixed_rooms(&app).await;
    let rooms = client(&app, &["rooms", "list", "--format", "table"]).await;
    insta::assert_snapshot!("rooms_table", rooms.ok("rooms table"));
    let room = format!("RM{:032}", 1);
    let participants = client(&app, &["participants", "list", &room, "--format", "table"]).await;
    insta::assert_snapshot!("participants_table", participants.ok("participants table"));
    let one = client(&app, &["rooms", "get", &room, "--format", "table"]).await;
    let shown = one.ok("rooms get table").replace(&app.account_sid, "AC[account]").replace(&app.base_url, "[base]");
    insta::assert_snapshot!("room_fields", shown);
}

#[tokio::test]
async fn api_errors_are_one_line_with_the_twilio_code_and_a_failure_exit() {
    let app = spawn_app().await;
    let missing = format!("RM{:032}", 9);
    let run = client(&app, &["rooms", "get", &missing]).await;
    assert!(!run.success, "an unknown room fails");
    assert_eq!(
        run.stderr.trim(),
        format!("roomlog: error 20404: The requested resource /Video/Rooms/{missing} was not found")
    );
    let wrong = Credentials::new(app.account_sid.clone(), "wrong");
    let run = client_as(&app, &wrong, &["rooms", "list"]).await;
    assert!(!run.success && run.stderr.trim() == "roomlog: error 20003: Authenticate", "{}", run.stderr);
    let run = roomlog(&["rooms", "list"], &[("ROOMLOG_URL", &app.base_url)]).await;
    assert!(!run.success && run.stderr.contains("no credentials"), "{}", run.stderr);
}

#[tokio::test]
async fn an_api_key_from_the_twilio_variables_works_like_the_account() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(2);
    app.ingest(events).await;
    let key = app.create_api_key().await;
    let env = [("TWILIO_ACCOUNT_SID", key.username.as_str()), ("TWILIO_AUTH_TOKEN", key.secret.as_str())];
    let run = roomlog(&["rooms", "list", "--format", "json", "--url", &app.base_url], &env).await;
    let listed = json(&run, "with an API key");
    let served = app.get("/v1/Video/Rooms").await.ok("list");
    let strip = |items: &Value| items.as_array().unwrap().iter().map(without_urls).collect::<Vec<_>>();
    assert_eq!(strip(&listed), strip(&served["rooms"]));
}
