//! One identity across rooms, `GET /v1/Video/Participants?Identity=…` (docs/behaviour.md §7.2):
//! every session of the identity in every room, newest first, each exactly as the participant
//! resource serves it; keyset paging with tokens bound to account and filters; bad input named.

use serde_json::Value;

use crate::fixtures::{at, participant, room, With};
use crate::helpers::spawn_app;
use crate::inspect::{sids, url_parts};
use crate::paging::walk;

#[tokio::test]
async fn an_identity_s_sessions_in_every_room_newest_first_as_the_participant_resource_serves_them() {
    let app = spawn_app().await;
    let (lobby, standup) = (room("lobby"), room("standup"));
    let (first, second, rejoin) = (participant("alice"), participant("alice"), participant("alice"));
    let (shouty, bob) = (participant("ALICE"), participant("bob"));
    app.ingest([
        lobby.created(&at(0, 0)),
        lobby.connected(&first, &at(0, 1)),
        lobby.connected(&bob, &at(0, 2)),
        standup.created(&at(1, 0)),
        standup.connected(&second, &at(2, 0)),
        standup.connected(&shouty, &at(2, 5)),
        lobby.disconnected(&first, &at(3, 0)).with("participant_duration", 179),
        lobby.connected(&rejoin, &at(5, 0)),
    ])
    .await;
    // The same identity in another account is that account's.
    let other = app.create_account().await;
    let elsewhere = room("elsewhere");
    let events = serde_json::json!({"events": [elsewhere.created(&at(0, 0)), elsewhere.connected(&participant("alice"), &at(9, 0))]});
    let reply = app.post_events_as(&other, &events).await;
    assert_eq!(reply.json()["accepted"], 2, "another account's events: {}", reply.body);

    let page = app.get("/v1/Video/Participants?Identity=alice").await.ok("searching alice");
    let found = &page["participants"];
    assert_eq!(
        sids(found, "participant_sid"),
        [rejoin.sid.clone(), second.sid.clone(), first.sid.clone()],
        "newest join first; not ALICE"
    );
    for item in found.as_array().unwrap() {
        let url = item["url"].as_str().unwrap();
        assert_eq!(app.get(url).await.ok(url), *item, "each item is the participant resource, byte for byte");
    }
    let rooms: Vec<&str> = found.as_array().unwrap().iter().map(|p| p["room_sid"].as_str().unwrap()).collect();
    assert_eq!(rooms, [&lobby.sid, &standup.sid, &lobby.sid]);
    assert_eq!(found[2]["duration_sec"], 179);
    let meta = &page["meta"];
    assert_eq!(meta["key"], "participants");
    assert_eq!(meta["url"], format!("{}/v1/Video/Participants?Identity=alice&PageSize=50&Page=0", app.base_url));
    assert_eq!(meta["next_page_url"], Value::Null);

    let other_page = app.get_as(&other, "/v1/Video/Participants?Identity=alice").await.ok("the other account");
    assert_eq!(other_page["participants"].as_array().unwrap().len(), 1, "each account sees its own");
    let shouting = app.get("/v1/Video/Participants?Identity=ALICE").await.ok("case-sensitive");
    assert_eq!(sids(&shouting["participants"], "participant_sid"), std::slice::from_ref(&shouty.sid));
    let nobody = app.get("/v1/Video/Participants?Identity=carol").await.ok("no sessions");
    assert_eq!(nobody["participants"], serde_json::json!([]));
}

#[tokio::test]
async fn the_search_pages_by_keyset_within_its_join_time_range_and_its_tokens_are_bound() {
    let app = spawn_app().await;
    let hall = room("hall");
    let sessions: Vec<_> = (0..5).map(|_| participant("dana")).collect();
    let mut events = vec![hall.created(&at(0, 0))];
    events.extend(sessions.iter().enumerate().map(|(i, p)| hall.connected(p, &at(1 + i as u32, 0))));
    app.ingest(events).await;
    let newest_first: Vec<String> = sessions.iter().rev().map(|p| p.sid.clone()).collect();

    let range = "CreatedAfter=2025-10-27T18:02:00Z&CreatedBefore=2025-10-27T18:05:00Z";
    let start = format!("/v1/Video/Participants?PageSize=1&{range}&Identity=dana");
    let pages = walk(&app, &start, "next_page_url").await;
    let walked: Vec<String> = pages.iter().flat_map(|p| sids(&p["participants"], "participant_sid")).collect();
    assert_eq!(walked, newest_first[1..4], "18:04, 18:03, 18:02: after inclusive, before exclusive");
    let next = pages[0]["meta"]["next_page_url"].as_str().unwrap();
    let (path, pairs) = url_parts(next);
    assert!(path.ends_with("/v1/Video/Participants"));
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["Identity", "CreatedAfter", "CreatedBefore", "PageSize", "Page", "PageToken"]);
    let back = walk(&app, pages.last().unwrap()["meta"]["url"].as_str().unwrap(), "previous_page_url").await;
    assert_eq!(back.len(), 3, "and back again");

    let token = pairs.iter().find(|(k, _)| k == "PageToken").map(|(_, v)| v.clone()).unwrap();
    let message = app
        .get(&format!("/v1/Video/Participants?Identity=erin&PageSize=1&Page=1&PageToken={token}"))
        .await
        .assert_error(400, 20001, "a token of another identity");
    assert!(message.contains("PageToken"), "{message}");
    let other = app.create_account().await;
    let message = app.get_as(&other, next).await.assert_error(400, 20001, "a token of another account");
    assert!(message.contains("PageToken"), "{message}");
    let tampered = next.replace("PageToken=P", "PageToken=PX");
    app.get(&tampered).await.assert_error(400, 20001, "a tampered token");
}

#[tokio::test]
async fn bad_searches_are_refused_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, param) in [
        ("", "Identity"),
        ("Identity=", "Identity"),
        ("PageSize=5", "Identity"),
        ("Identity=a&CreatedAfter=yesterday", "CreatedAfter"),
        ("Identity=a&CreatedBefore=2025-13-40", "CreatedBefore"),
        ("Identity=a&PageSize=0", "PageSize"),
        ("Identity=a&Page=-1", "Page"),
    ] {
        let message = app.get(&format!("/v1/Video/Participants?{query}")).await.assert_error(400, 20001, query);
        assert!(message.contains(param), "{query}: the message names {param}: {message}");
    }
    app.get_unauthenticated("/v1/Video/Participants?Identity=a").await.assert_error(401, 20003, "no credentials");
}
