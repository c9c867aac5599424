//! The error table of docs/behaviour.md §3: every bad input gets Twilio's v1 error JSON with the right
//! status and code, and never a 5xx.

use reqwest::Method;

use crate::fixtures::{at, participant, room, rooms_one_second_apart};
use crate::helpers::spawn_app;

/// A genuine next-page token of a rooms listing without filters.
async fn next_token(app: &crate::helpers::TestApp) -> String {
    let page = app.get("/v1/Video/Rooms?PageSize=1").await.ok("first page");
    let url = page["meta"]["next_page_url"].as_str().expect("a next page").to_owned();
    url.split("PageToken=").nth(1).expect("a PageToken").to_owned()
}

#[tokio::test]
async fn invalid_list_parameters_are_refused_with_400_naming_the_parameter() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(3);
    app.ingest(events).await;
    let token = next_token(&app).await;
    let mut tampered = token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let flipped = format!("PB{}", &token[2..]);
    // A token signed by another server (another database, another key).
    let elsewhere = spawn_app().await;
    elsewhere.ingest(rooms_one_second_apart(2).1).await;
    let foreign = next_token(&elsewhere).await;

    let cases = [
        ("RoomType=huge", "RoomType"),
        ("RoomType=group-large", "RoomType"),
        ("Codec=AV1", "Codec"),
        ("Codec=PCMU", "Codec"),
        ("CreatedAfter=yesterday", "CreatedAfter"),
        ("CreatedAfter=2025-13-01", "CreatedAfter"),
        ("CreatedBefore=2025-10-27T25:00:00Z", "CreatedBefore"),
        ("PageSize=0", "PageSize"),
        ("PageSize=-1", "PageSize"),
        ("PageSize=abc", "PageSize"),
        ("PageSize=1.5", "PageSize"),
        ("Page=-1", "Page"),
        ("Page=abc", "Page"),
        ("PageToken=garbage", "PageToken"),
        ("PageToken=PA", "PageToken"),
        ("PageToken=PA%00%FF", "PageToken"),
        (&format!("PageToken={tampered}"), "PageToken"),
        (&format!("PageToken={flipped}"), "PageToken"),
        (&format!("PageToken={foreign}"), "PageToken"),
        (&format!("PageToken={}", "PA".repeat(500)), "PageToken"),
    ];
    for (query, parameter) in cases {
        let reply = app.get(&format!("/v1/Video/Rooms?PageSize=1&Page=1&{query}")).await;
        let message = reply.assert_error(400, 20001, query);
        assert!(message.contains(parameter), "{query}: the message names {parameter}: {message}");
    }
}

#[tokio::test]
async fn invalid_paging_of_participants_is_refused_with_400() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    app.ingest([lobby.created(&at(0, 0))]).await;

    for (query, parameter) in
        [("PageSize=0", "PageSize"), ("PageSize=x", "PageSize"), ("Page=-3", "Page"), ("PageToken=PBnope", "PageToken")]
    {
        let reply = app.get(&format!("/v1/Video/Rooms/{}/Participants?{query}", lobby.sid)).await;
        let message = reply.assert_error(400, 20001, query);
        assert!(message.contains(parameter), "{query}: {message}");
    }
}

#[tokio::test]
async fn malformed_sids_in_paths_name_no_resource() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1))]).await;
    let hex = &lobby.sid[2..];

    let paths = [
        "/v1/Video/Rooms/RM123".to_owned(),
        format!("/v1/Video/Rooms/PA{hex}"),
        format!("/v1/Video/Rooms/rm{hex}"),
        format!("/v1/Video/Rooms/RM{}g", &hex[1..]),
        format!("/v1/Video/Rooms/{}x", lobby.sid),
        format!("/v1/Video/Rooms/RM{hex}/Participants/PA123"),
        format!("/v1/Video/Rooms/{}/Participants/RM{}", lobby.sid, &alice.sid[2..]),
        "/v1/Video/Rooms/not-a-room/Participants".to_owned(),
    ];
    for path in paths {
        let message = app.get(&path).await.assert_error(404, 20404, &path);
        assert_eq!(message, format!("The requested resource {} was not found", &path[3..]), "{path}");
    }
}

#[tokio::test]
async fn an_unknown_room_is_not_found_with_twilios_message() {
    let app = spawn_app().await;
    let unknown = room("never created");

    let message = app.get(&format!("/v1/Video/Rooms/{}", unknown.sid)).await.assert_error(404, 20404, "unknown room");
    assert_eq!(message, format!("The requested resource /Video/Rooms/{} was not found", unknown.sid));
}

#[tokio::test]
async fn write_methods_on_read_resources_are_not_allowed() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1))]).await;
    let resources = [
        "/v1/Video/Rooms".to_owned(),
        format!("/v1/Video/Rooms/{}", lobby.sid),
        format!("/v1/Video/Rooms/{}/Participants", lobby.sid),
        format!("/v1/Video/Rooms/{}/Participants/{}", lobby.sid, alice.sid),
    ];

    for path in &resources {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let case = format!("{method} {path}");
            let reply =
                app.send(method, path, Some(&app.credentials()), Some((b"{}".to_vec(), "application/json"))).await;
            reply.assert_error(405, 20004, &case);
        }
    }
    assert_eq!(app.room(&lobby.sid).await["unique_participants"], 1, "nothing was changed");
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    // `/` is the dashboard (dashboard.rs); every unknown API path is a JSON 404.
    for path in [
        "/v1".to_owned(),
        "/v1/Video".to_owned(),
        "/v1/Video/Nope".to_owned(),
        "/v2/Video/Rooms".to_owned(),
        "/v1/video/rooms".to_owned(),
        format!("/v1/Video/Rooms/{}/Tracks", lobby.sid),
        format!("/v1/Video/Rooms/{}/Participants/{}/Extra", lobby.sid, participant("x").sid),
    ] {
        app.get(&path).await.assert_error(404, 20404, &path);
    }
}
