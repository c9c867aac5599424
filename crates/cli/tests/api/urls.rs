//! The URLs in responses (docs/behaviour.md §1–§2): `meta` links with filters in canonical order and
//! safely encoded, and the public base every absolute URL starts with.

use reqwest::header::HOST;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixtures::{at, participant, room};
use crate::helpers::{spawn_app, spawn_app_with, Reply, Settings, TestApp};
use crate::inspect::{pairs, sids, url_parts};

#[tokio::test]
async fn meta_urls_carry_the_filters_in_canonical_order() {
    let app = spawn_app().await;
    let (early, late) = (room("Daily standup"), room("Daily standup"));
    let mut events = early.with_codecs(&at(30, 0), &["OPUS"]);
    events.extend(late.with_codecs(&at(31, 0), &["OPUS"]));
    app.ingest(events).await;

    // Sent out of order, with an unknown parameter and lenient spellings (Go sorts keys).
    let query = "Unknown=1&PageSize=1&CreatedBefore=2025-10-28&RoomName=Daily%20standup&Codec=OPUS\
                 &CreatedAfter=2025-10-27T17:00:00.000Z&RoomType=go&RoomType=group";
    let first = app.get(&format!("/v1/Video/Rooms?{query}")).await.ok(query);

    assert_eq!(sids(&first["rooms"], "room_sid"), [late.sid.as_str()]);
    let meta = first["meta"].as_object().expect("a meta object");
    let keys: Vec<&str> = meta.keys().map(String::as_str).collect();
    assert_eq!(keys, ["first_page_url", "key", "next_page_url", "page", "page_size", "previous_page_url", "url"]);
    assert_eq!((&meta["key"], &meta["page"], &meta["page_size"]), (&json!("rooms"), &json!(0), &json!(1)));
    assert_eq!(meta["previous_page_url"], Value::Null, "the first page");
    let list_url = format!("{}/v1/Video/Rooms", app.base_url);
    let expected = |paging: &[(&str, &str)]| {
        let filters = [
            ("RoomType", "go"),
            ("RoomType", "group"),
            ("Codec", "opus"),
            ("RoomName", "Daily standup"),
            ("CreatedAfter", "2025-10-27T17:00:00Z"),
            ("CreatedBefore", "2025-10-28T00:00:00Z"),
        ];
        (list_url.clone(), pairs(&[&filters[..], paging].concat()))
    };
    // A URL with a page token, the token replaced by its two-letter prefix.
    let parts = |url: &Value| {
        let (head, mut query) = url_parts(url.as_str().unwrap_or_else(|| panic!("a URL, not {url}")));
        if let Some((key, token)) = query.last_mut().filter(|(key, _)| key == "PageToken") {
            assert_eq!(key, "PageToken");
            token.truncate(2);
        }
        (head, query)
    };
    let page_zero = expected(&[("PageSize", "1"), ("Page", "0")]);
    assert_eq!(parts(&meta["first_page_url"]), page_zero, "first_page_url");
    assert_eq!(parts(&meta["url"]), page_zero, "url of the first page");
    assert_eq!(parts(&meta["next_page_url"]), expected(&[("PageSize", "1"), ("Page", "1"), ("PageToken", "PA")]));

    let second = app.get(meta["next_page_url"].as_str().unwrap_or_default()).await.ok("the second page");
    assert_eq!(sids(&second["rooms"], "room_sid"), [early.sid.as_str()]);
    let meta = &second["meta"];
    assert_eq!(meta["next_page_url"], Value::Null, "the last page");
    assert_eq!(parts(&meta["first_page_url"]), page_zero, "first_page_url of the second page");
    assert_eq!(parts(&meta["url"]), expected(&[("PageSize", "1"), ("Page", "1"), ("PageToken", "PA")]));
    assert_eq!(parts(&meta["previous_page_url"]), expected(&[("PageSize", "1"), ("Page", "0"), ("PageToken", "PB")]));
}

/// Every URL of a listing with two pages, a room and its participants. `public` is the base
/// the server announces, replaced by its real address to follow a link.
async fn every_url(app: &TestApp, public: &str, room_sid: &str, participant_sid: &str) -> Vec<String> {
    let rooms = app.get("/v1/Video/Rooms?PageSize=1").await.ok("first page");
    let next = rooms["meta"]["next_page_url"].as_str().expect("a next page").to_owned();
    let second = app.get(&next.replacen(public, &app.base_url, 1)).await.ok("second page");
    let room = app.room(room_sid).await;
    let people = app.get(&format!("/v1/Video/Rooms/{room_sid}/Participants")).await.ok("participants");
    let person = app.get(&format!("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}")).await.ok("participant");
    let mut urls = vec![next];
    for meta in [&rooms["meta"], &second["meta"], &people["meta"]] {
        urls.extend(
            ["first_page_url", "url", "previous_page_url"].iter().filter_map(|k| meta[k].as_str().map(str::to_owned)),
        );
    }
    for summary in [&rooms["rooms"][0], &room, &people["participants"][0], &person] {
        urls.push(summary["url"].as_str().expect("a url").to_owned());
    }
    urls.push(room["links"]["participants"].as_str().expect("a participants link").to_owned());
    urls
}

#[tokio::test]
async fn the_configured_public_url_is_the_base_of_every_url() {
    let app =
        spawn_app_with(Settings { public_url: Some("https://insights.example.com/"), ..Settings::default() }).await;
    let (first, second, who) = (room("first"), room("second"), participant("alice"));
    app.ingest([first.created(&at(0, 0)), second.created(&at(0, 1)), first.connected(&who, &at(0, 2))]).await;

    for url in every_url(&app, "https://insights.example.com", &first.sid, &who.sid).await {
        assert!(url.starts_with("https://insights.example.com/v1/Video/Rooms"), "{url}");
    }
}

#[tokio::test]
async fn without_a_public_url_urls_are_built_from_the_host_header_and_forwarded_headers_are_ignored() {
    let app = spawn_app().await;
    let (lobby, hall, who) = (room("lobby"), room("hall"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), hall.created(&at(0, 1)), lobby.connected(&who, &at(0, 2))]).await;

    for url in every_url(&app, &app.base_url, &lobby.sid, &who.sid).await {
        assert!(url.starts_with(&format!("{}/v1/Video/Rooms", app.base_url)), "{url}");
    }
    let request = app
        .authed(Method::GET, &format!("/v1/Video/Rooms/{}", lobby.sid))
        .header(HOST, "roomlog.internal:8443")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "evil.example");
    let fetched = Reply::of(request).await.ok("fetch with a Host header");
    assert_eq!(fetched["url"], format!("http://roomlog.internal:8443/v1/Video/Rooms/{}", lobby.sid));
}

#[tokio::test]
async fn forwarded_headers_set_the_base_only_behind_a_trusted_proxy() {
    let app = spawn_app_with(Settings { trust_proxy: true, ..Settings::default() }).await;
    let lobby = room("lobby");
    app.ingest([lobby.created(&at(0, 0))]).await;

    let request = app
        .authed(Method::GET, &format!("/v1/Video/Rooms/{}", lobby.sid))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "video.example.com");
    let fetched = Reply::of(request).await.ok("fetch through a trusted proxy");
    assert_eq!(fetched["url"], format!("https://video.example.com/v1/Video/Rooms/{}", lobby.sid));
}

#[tokio::test]
async fn a_room_name_with_reserved_characters_survives_the_meta_urls() {
    let app = spawn_app().await;
    let name = "Q&A + PageSize=1/π #1";
    let (early, late) = (room(name), room(name));
    app.ingest([early.created(&at(0, 0)), late.created(&at(0, 1)), room("Q").created(&at(0, 2))]).await;

    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let first = app.get(&format!("/v1/Video/Rooms?RoomName={encoded}&PageSize=1")).await.ok("first page");
    let next = first["meta"]["next_page_url"].as_str().expect("a next page");
    let (_, query) = url_parts(next);
    assert_eq!(query[0], ("RoomName".to_owned(), name.to_owned()), "the name round-trips: {next}");
    let second = app.get(next).await.ok("second page");
    assert_eq!(sids(&first["rooms"], "room_sid"), [late.sid.as_str()]);
    assert_eq!(sids(&second["rooms"], "room_sid"), [early.sid.as_str()]);
    assert_eq!(second["meta"]["next_page_url"], Value::Null);
}
