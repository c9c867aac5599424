//! `GET /v1/Video/Rooms`: order, every filter, the default window and `PageSize`
//! (docs/behaviour.md §2).

use reqwest::header::CONTENT_TYPE;
use reqwest::Method;

use crate::fixtures::{ago, at, room, room_of_type, rooms_one_second_apart, Room};
use crate::helpers::{spawn_app, spawn_app_with, Reply, Settings};
use crate::inspect::sids;

/// The SIDs of `rooms`, sorted, to compare listings as sets where order is not the point.
fn set_of(rooms: &[&Room]) -> Vec<String> {
    let mut sids: Vec<String> = rooms.iter().map(|r| r.sid.clone()).collect();
    sids.sort();
    sids
}

fn sorted(mut sids: Vec<String>) -> Vec<String> {
    sids.sort();
    sids
}

#[tokio::test]
async fn rooms_are_listed_newest_first_then_by_room_sid_descending() {
    let app = spawn_app().await;
    let (rooms, events) = rooms_one_second_apart(3);
    // Two more rooms in the newest room's second: create_time is truncated, so the SID decides.
    let twins = [room("twin a"), room("twin b")];
    app.ingest(events.into_iter().chain(twins.iter().map(|r| r.created("2025-10-27T18:00:02.900Z")))).await;

    let mut newest = vec![rooms[2].sid.clone(), twins[0].sid.clone(), twins[1].sid.clone()];
    newest.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = newest.into_iter().chain([rooms[1].sid.clone(), rooms[0].sid.clone()]).collect();
    assert_eq!(app.room_sids("").await, expected);
}

#[tokio::test]
async fn room_types_are_ored_and_hyphenated_spellings_are_accepted() {
    let app = spawn_app().await;
    let go = room_of_type("go", "go");
    let p2p = room_of_type("p2p", "peer-to-peer");
    let group = room_of_type("group", "group");
    let small = room_of_type("small", "group_small");
    app.ingest([&go, &p2p, &group, &small].iter().map(|r| r.created(&at(0, 0)))).await;

    let cases: [(&str, Vec<&Room>); 6] = [
        ("RoomType=go", vec![&go]),
        ("RoomType=go&RoomType=peer-to-peer", vec![&go, &p2p]),
        ("RoomType=peer_to_peer", vec![&p2p]),
        ("RoomType=group-small", vec![&small]),
        ("RoomType=group_small&RoomType=group", vec![&group, &small]),
        ("", vec![&go, &p2p, &group, &small]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(app.room_sids(query).await), set_of(&expected), "query {query:?}");
    }
}

#[tokio::test]
async fn a_room_matches_a_codec_filter_when_it_used_any_of_the_codecs() {
    let app = spawn_app().await;
    let vp8_opus = room("vp8 and opus");
    let h264 = room("h264");
    let vp9 = room("vp9");
    let silent = room("no tracks");
    let mut events = vp8_opus.with_codecs(&at(0, 0), &["VP8", "OPUS"]);
    events.extend(h264.with_codecs(&at(0, 1), &["H264"]));
    events.extend(vp9.with_codecs(&at(0, 2), &["VP9"]));
    events.extend(silent.with_codecs(&at(0, 3), &[]));
    app.ingest(events).await;

    let cases: [(&str, Vec<&Room>); 6] = [
        ("Codec=opus", vec![&vp8_opus]),
        ("Codec=OPUS", vec![&vp8_opus]),
        ("Codec=H264&Codec=VP8", vec![&vp8_opus, &h264]),
        ("Codec=VP9", vec![&vp9]),
        ("Codec=VP9&RoomType=go", vec![]),
        ("Codec=H264&RoomType=group", vec![&h264]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(app.room_sids(query).await), set_of(&expected), "query {query:?}");
    }
}

#[tokio::test]
async fn room_name_matches_exactly_and_case_sensitively() {
    let app = spawn_app().await;
    let names = ["Standup", "standup", "Standup 2", "Stand"];
    let rooms: Vec<Room> = names.iter().map(|n| room(n)).collect();
    app.ingest(rooms.iter().map(|r| r.created(&at(0, 0)))).await;

    for (query, index) in
        [("RoomName=Standup", 0), ("RoomName=standup", 1), ("RoomName=Standup%202", 2), ("RoomName=Stand", 3)]
    {
        assert_eq!(app.room_sids(query).await, vec![rooms[index].sid.clone()], "query {query:?}");
    }
    assert!(app.room_sids("RoomName=STANDUP").await.is_empty(), "names are case-sensitive");
}

#[tokio::test]
async fn created_after_is_inclusive_and_created_before_is_exclusive() {
    let app = spawn_app().await;
    let rooms = [room("t0"), room("t1"), room("t2")];
    // The middle room has milliseconds: filters compare the truncated create_time (§5).
    let times = [at(0, 0), "2025-10-27T18:00:01.700Z".to_owned(), at(0, 2)];
    app.ingest(rooms.iter().zip(&times).map(|(r, t)| r.created(t))).await;
    let [t0, t1, t2] = &rooms;

    let cases: [(&str, Vec<&Room>); 5] = [
        ("CreatedAfter=2025-10-27T18:00:01Z", vec![t1, t2]),
        ("CreatedBefore=2025-10-27T18:00:01Z", vec![t0]),
        ("CreatedAfter=2025-10-27T18:00:00Z&CreatedBefore=2025-10-27T18:00:02Z", vec![t0, t1]),
        ("CreatedAfter=2025-10-27T18:00:01.500Z", vec![t2]),
        ("CreatedBefore=2025-10-27T18:00:01.500Z", vec![t0, t1]),
    ];
    for (query, expected) in cases {
        assert_eq!(sorted(app.room_sids(query).await), set_of(&expected), "query {query:?}");
    }
}

#[tokio::test]
async fn filter_dates_are_read_in_every_spelling_clients_send() {
    let app = spawn_app().await;
    let rooms = [room("eve"), room("midnight"), room("at"), room("after")];
    let times = ["2025-10-26T23:59:59Z", "2025-10-27T00:00:00Z", "2025-10-27T18:16:01Z", "2025-10-27T18:16:02Z"];
    app.ingest(rooms.iter().zip(times).map(|(r, t)| r.created(t))).await;
    let [eve, midnight, at_, after] = &rooms;

    let same_instant = [
        "2025-10-27T18:16:01Z",
        "2025-10-27T18:16:01.000Z",
        "2025-10-27T18:16:01.000000Z",
        "2025-10-27T20:16:01%2B02:00",
        "2025-10-27T20:16:01+02:00", // an unencoded '+' reaches the server as a space
        "2025-10-27T20:16:01.000+02:00",
        "2025-10-27T13:16:01-05:00",
    ];
    for spelling in same_instant {
        let query = format!("CreatedAfter={spelling}");
        assert_eq!(sorted(app.room_sids(&query).await), set_of(&[at_, after]), "query {query:?}");
    }
    assert_eq!(sorted(app.room_sids("CreatedAfter=2025-10-27").await), set_of(&[midnight, at_, after]), "bare date");
    assert_eq!(app.room_sids("CreatedBefore=2025-10-27").await, vec![eve.sid.clone()], "bare date, exclusive");
}

#[tokio::test]
async fn without_a_date_filter_only_rooms_of_the_default_window_are_listed() {
    let app = spawn_app_with(Settings { default_window: "24h", ..Settings::default() }).await;
    let (old, recent) = (room("two days old"), room("an hour old"));
    app.ingest([old.created(&ago(2 * 86_400)), recent.created(&ago(3_600))]).await;

    assert_eq!(app.room_sids("").await, vec![recent.sid.clone()], "no date filter");
    let query = format!("CreatedAfter={}", ago(3 * 86_400));
    assert_eq!(sorted(app.room_sids(&query).await), set_of(&[&old, &recent]), "with CreatedAfter");
    let query = format!("CreatedBefore={}", ago(60));
    assert_eq!(sorted(app.room_sids(&query).await), set_of(&[&old, &recent]), "with CreatedBefore");
    assert_eq!(app.room(&old.sid).await["room_sid"], old.sid.as_str(), "fetching is never windowed");
}

#[tokio::test]
async fn a_default_window_of_zero_lists_every_room() {
    let app = spawn_app_with(Settings { default_window: "0", ..Settings::default() }).await;
    let (old, recent) = (room("a year old"), room("an hour old"));
    app.ingest([old.created(&ago(365 * 86_400)), recent.created(&ago(3_600))]).await;

    assert_eq!(app.room_sids("").await, vec![recent.sid.clone(), old.sid.clone()]);
}

#[tokio::test]
async fn page_size_defaults_to_50_and_is_clamped_to_1000() {
    let app = spawn_app().await;
    // Clients send PageSize=limit unclamped, however large (docs/behaviour.md §2).
    let cases = [
        ("", 50),
        ("PageSize=1", 1),
        ("PageSize=1000", 1000),
        ("PageSize=5000", 1000),
        ("PageSize=99999999999999999999", 1000),
    ];
    for (query, expected) in cases {
        let page = app.get(&format!("/v1/Video/Rooms?{query}")).await.ok(query);
        assert_eq!(page["meta"]["page_size"], expected, "query {query:?}");
    }
}

#[tokio::test]
async fn a_get_with_a_form_content_type_is_served_as_usual() {
    // twilio-python and Go send a form Content-Type on GET (docs/behaviour.md §2).
    let app = spawn_app().await;
    let lobby = room("lobby");
    app.ingest([lobby.created(&at(0, 0))]).await;

    let request = app
        .authed(Method::GET, "/v1/Video/Rooms?RoomName=lobby")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    let page = Reply::of(request).await.ok("form content type");
    assert_eq!(sids(&page["rooms"], "room_sid"), vec![lobby.sid]);
}
