//! Keyset paging of the rooms list (docs/behaviour.md §2): following `next_page_url` and
//! `previous_page_url` verbatim, stability under inserts, tokens bound to account and filters.

use serde_json::Value;

use crate::fixtures::{at, room, rooms_one_second_apart};
use crate::helpers::{spawn_app, Api};
use crate::inspect::{sids, url_parts};

/// Follows `field` (`next_page_url` or `previous_page_url`) from `start` until it is null,
/// returning every page, `start`'s included.
pub async fn walk(api: &Api, start: &str, field: &str) -> Vec<Value> {
    let mut pages = vec![api.get(start).await.ok(start)];
    while let Some(url) = pages.last().and_then(|p| p["meta"][field].as_str()).map(str::to_owned) {
        assert!(url.starts_with(&api.base_url), "{field} must be absolute: {url}");
        let page = api.get(&url).await.ok(&url);
        assert_eq!(page["meta"]["url"], url.as_str(), "meta.url names the page fetched");
        pages.push(page);
        assert!(pages.len() < 100, "{field} never ends");
    }
    pages
}

fn page_sids(pages: &[Value], key: &str) -> Vec<Vec<String>> {
    pages.iter().map(|p| sids(&p[key], if key == "rooms" { "room_sid" } else { "participant_sid" })).collect()
}

/// Four rooms one second apart and four more sharing one second, so that ties on
/// `create_time` straddle page boundaries; returns the full list in order.
async fn seed_with_ties(api: &Api) -> Vec<String> {
    let (_, mut events) = rooms_one_second_apart(4);
    events.extend((0..4).map(|i| room(&format!("tied {i}")).created(&format!("2025-10-27T18:00:10.{i}00Z"))));
    api.ingest(events).await;
    api.room_sids("PageSize=50").await
}

fn token_of(url: &str) -> String {
    let (_, pairs) = url_parts(url);
    pairs.into_iter().find(|(k, _)| k == "PageToken").map(|(_, v)| v).unwrap_or_else(|| panic!("no PageToken in {url}"))
}

#[tokio::test]
async fn following_next_page_urls_lists_every_room_exactly_once() {
    let app = spawn_app().await;
    let everything = seed_with_ties(&app).await;

    let pages = walk(&app, "/v1/Video/Rooms?PageSize=3", "next_page_url").await;

    let walked = page_sids(&pages, "rooms");
    assert_eq!(walked.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2], "page sizes");
    assert_eq!(walked.concat(), everything, "every room once, in list order");
    for (index, page) in pages.iter().enumerate() {
        let meta = &page["meta"];
        assert_eq!(meta["page"], index, "meta.page of page {index}");
        assert_eq!(meta["page_size"], 3, "meta.page_size of page {index}");
        match meta["previous_page_url"].as_str() {
            None => assert_eq!(index, 0, "only the first page has no previous page"),
            Some(url) => assert!(token_of(url).starts_with("PB"), "previous tokens are PB…: {url}"),
        }
        match meta["next_page_url"].as_str() {
            None => assert_eq!(index, 2, "only the last page has no next page"),
            Some(url) => assert!(token_of(url).starts_with("PA"), "next tokens are PA…: {url}"),
        }
    }
}

#[tokio::test]
async fn following_previous_page_urls_back_gives_the_same_pages() {
    let app = spawn_app().await;
    seed_with_ties(&app).await;
    let forward = walk(&app, "/v1/Video/Rooms?PageSize=3", "next_page_url").await;
    let last = forward.last().expect("a last page")["meta"]["url"].as_str().expect("a url").to_owned();

    let mut backward = walk(&app, &last, "previous_page_url").await;
    backward.reverse();

    assert_eq!(page_sids(&backward, "rooms"), page_sids(&forward, "rooms"));
    let pages: Vec<&Value> = backward.iter().map(|p| &p["meta"]["page"]).collect();
    assert_eq!(pages, [0, 1, 2], "meta.page counts down");
    assert!(backward[0]["meta"]["next_page_url"].is_string(), "walking back keeps a way forward");
}

#[tokio::test]
async fn rooms_created_while_a_client_pages_are_neither_skipped_nor_repeated() {
    let app = spawn_app().await;
    let rooms: Vec<_> = (0..6).map(|i| room(&format!("room {i}"))).collect();
    app.ingest(rooms.iter().enumerate().map(|(i, r)| r.created(&at(0, 2 * i as u32)))).await;
    let first = app.get("/v1/Video/Rooms?PageSize=2").await.ok("first page");
    let next = first["meta"]["next_page_url"].as_str().expect("a next page").to_owned();

    // One room newer than all (offset paging would repeat a room), one in the unseen middle.
    let (newer, middle) = (room("newer"), room("middle"));
    app.ingest([newer.created(&at(1, 0)), middle.created(&at(0, 3))]).await;
    let rest = walk(&app, &next, "next_page_url").await;

    let mut seen = sids(&first["rooms"], "room_sid");
    seen.extend(page_sids(&rest, "rooms").concat());
    let sid = |i: usize| rooms[i].sid.clone();
    assert_eq!(seen, [sid(5), sid(4), sid(3), sid(2), middle.sid.clone(), sid(1), sid(0)]);
}

#[tokio::test]
async fn page_without_a_token_is_an_offset_of_page_times_page_size() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(5);
    app.ingest(events).await;
    let everything = app.room_sids("").await;

    for (page, expected) in
        [(0, &everything[0..2]), (1, &everything[2..4]), (2, &everything[4..5]), (5, &everything[5..5])]
    {
        let reply = app.get(&format!("/v1/Video/Rooms?PageSize=2&Page={page}")).await.ok("Page without a token");
        assert_eq!(sids(&reply["rooms"], "room_sid"), expected, "Page={page}");
        assert_eq!(reply["meta"]["page"], page, "meta.page for Page={page}");
    }
    let second = app.get("/v1/Video/Rooms?PageSize=2&Page=1").await.ok("second page");
    let previous = second["meta"]["previous_page_url"].as_str().expect("page 1 has a previous page");
    let back = app.get(previous).await.ok("back to page 0");
    assert_eq!(sids(&back["rooms"], "room_sid"), &everything[0..2]);
    assert_eq!(back["meta"]["page"], 0);
}

#[tokio::test]
async fn a_page_token_works_only_with_the_filters_it_was_issued_for() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(3);
    app.ingest(events).await;
    let first = app.get("/v1/Video/Rooms?RoomType=group&PageSize=1").await.ok("filtered first page");
    let token = token_of(first["meta"]["next_page_url"].as_str().expect("a next page"));

    for (case, query) in [
        ("no filter", "PageSize=1&Page=1".to_owned()),
        ("another room type", "RoomType=go&PageSize=1&Page=1".to_owned()),
        ("an added filter", "RoomType=group&RoomName=room%201&PageSize=1&Page=1".to_owned()),
        ("an added date", "RoomType=group&CreatedAfter=2025-01-01&PageSize=1&Page=1".to_owned()),
    ] {
        let reply = app.get(&format!("/v1/Video/Rooms?{query}&PageToken={token}")).await;
        let message = reply.assert_error(400, 20001, case);
        assert!(message.contains("PageToken"), "{case}: the message names the parameter: {message}");
    }
    let same = app.get(&format!("/v1/Video/Rooms?RoomType=group&PageSize=1&Page=1&PageToken={token}")).await;
    same.ok("the same filters");
}

#[tokio::test]
async fn a_page_token_of_another_account_is_refused() {
    let app = spawn_app().await;
    let (_, events) = rooms_one_second_apart(2);
    app.ingest(events).await;
    let first = app.get("/v1/Video/Rooms?PageSize=1").await.ok("first page");
    let next = first["meta"]["next_page_url"].as_str().expect("a next page");
    let other = app.create_account().await;

    let message = app.get_as(&other, next).await.assert_error(400, 20001, "token of another account");
    assert!(message.contains("PageToken"), "{message}");
}

#[tokio::test]
async fn a_room_list_token_is_refused_by_a_participants_list() {
    let app = spawn_app().await;
    let (rooms, events) = rooms_one_second_apart(2);
    app.ingest(events).await;
    let first = app.get("/v1/Video/Rooms?PageSize=1").await.ok("first page");
    let token = token_of(first["meta"]["next_page_url"].as_str().expect("a next page"));

    let path = format!("/v1/Video/Rooms/{}/Participants?PageSize=1&Page=1&PageToken={token}", rooms[0].sid);
    app.get(&path).await.assert_error(400, 20001, "a rooms token on participants");
}
