//! The dashboard at `GET /` as a browser sees it: sign-in and sign-out with CSRF-safe
//! forms, a signed session cookie, the rooms page over the API's own query and page tokens, the
//! room page's timeline, escaping of user data, and one account never seeing another's rooms.

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use roomlog_core::account::Account;

use crate::fixtures::{at, participant, room, room_of_type, rooms_one_second_apart, standup};
use crate::helpers::{spawn_app, Credentials, Reply, TestApp};

/// A cookie jar and form filler over one test server, with no redirects followed.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser { app, cookies: HashMap::new() }
    }

    async fn send(&mut self, method: Method, target: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let mut request = self.app.request(method, target);
        if !self.cookies.is_empty() {
            let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(COOKIE, header.join("; "));
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let reply = Reply::of(request).await;
        for (name, value, _) in set_cookies(&reply) {
            if value.is_empty() {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, value);
            }
        }
        reply
    }

    pub async fn get(&mut self, target: &str) -> Reply {
        self.send(Method::GET, target, None).await
    }

    async fn post(&mut self, target: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Method::POST, target, Some(form)).await
    }

    /// Opens the sign-in form and submits it with these credentials.
    async fn sign_in_as(&mut self, username: &str, secret: &str) -> Reply {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, StatusCode::OK, "the sign-in form: {}", form.body);
        let csrf = csrf_of(&form.body);
        self.post("/sign-in", &[("username", username), ("password", secret), ("csrf", &csrf), ("next", "/")]).await
    }

    pub async fn sign_in(&mut self) -> Reply {
        let (username, secret) = (self.app.account_sid.clone(), self.app.auth_token.clone());
        let reply = self.sign_in_as(&username, &secret).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "signing in: {}", reply.body);
        reply
    }
}

/// `(name, value, attributes)` of every `Set-Cookie` of a reply.
fn set_cookies(reply: &Reply) -> Vec<(String, String, String)> {
    reply
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| {
            let text = value.to_str().expect("an ASCII cookie");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            (name.to_owned(), value.to_owned(), attributes.to_owned())
        })
        .collect()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no csrf field in {html}")) + marker.len();
    html[start..].split('"').next().expect("a closing quote").to_owned()
}

/// The `href` of the link with `rel`, HTML entities of `&` undone.
fn link(html: &str, rel: &str) -> Option<String> {
    let anchor = html.split("<a ").find(|a| a.contains(&format!("rel=\"{rel}\"")))?;
    let start = anchor.find("href=\"")? + 6;
    Some(anchor[start..].split('"').next()?.replace("&amp;", "&").replace("&#38;", "&"))
}

/// The room SIDs of the rooms table, in order.
fn room_rows(html: &str) -> Vec<String> {
    html.split("data-room-sid=\"").skip(1).map(|rest| rest[..34].to_owned()).collect()
}

fn location(reply: &Reply) -> &str {
    reply.header(LOCATION.as_str()).unwrap_or_else(|| panic!("no Location in a {} reply", reply.status))
}

#[tokio::test]
async fn a_visitor_without_a_session_is_sent_to_sign_in_and_brought_back_after() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);

    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/sign-in");
    let deep = browser.get("/rooms/RM0123456789abcdef0123456789abcdef?x=1").await;
    assert_eq!(location(&deep), "/sign-in?next=%2Frooms%2FRM0123456789abcdef0123456789abcdef%3Fx%3D1");

    let form = browser.get(location(&deep)).await;
    assert!(form.body.contains("value=\"/rooms/RM0123456789abcdef0123456789abcdef?x=1\""), "{}", form.body);
    let csrf = csrf_of(&form.body);
    let (sid, token) = (app.account_sid.clone(), app.auth_token.clone());
    let signed_in = browser
        .post(
            "/sign-in",
            &[("username", &sid), ("password", &token), ("csrf", &csrf), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(location(&signed_in), "/", "only a local path may follow sign-in");
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_signed_expiring_session_cookie() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);

    let reply = browser.sign_in().await;

    assert_eq!(location(&reply), "/");
    let cookies = set_cookies(&reply);
    let (_, value, attributes) = cookies.iter().find(|(name, ..)| name == "roomlog_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(attributes.contains(attribute), "{attribute} in {attributes}");
    }
    assert!(!value.contains(&app.auth_token), "the cookie never carries the token");
    let rooms = browser.get("/").await;
    assert_eq!(rooms.status, StatusCode::OK, "{}", rooms.body);
    assert!(rooms.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(rooms.body.contains(&app.account_sid), "the page names the signed-in account");
}

#[tokio::test]
async fn an_api_key_and_its_secret_sign_in_to_the_key_s_account() {
    let app = spawn_app().await;
    let key = app.create_api_key().await;
    let mut browser = Browser::new(&app);

    let reply = browser.sign_in_as(&key.username, &key.secret).await;

    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let rooms = browser.get("/").await;
    assert!(rooms.body.contains(&app.account_sid) && rooms.body.contains(&key.username), "{}", rooms.body);
}

#[tokio::test]
async fn wrong_credentials_get_the_form_again_and_no_session() {
    let app = spawn_app().await;
    let other = app.create_account().await;
    let mut browser = Browser::new(&app);
    let cases = [
        ("a wrong token", app.account_sid.clone(), "0".repeat(32)),
        ("another account's token", app.account_sid.clone(), other.secret.clone()),
        ("an unknown account", Account::generate("x").sid.to_string(), "secret".into()),
        ("not a SID", "alice".into(), "secret".into()),
    ];
    for (case, username, secret) in cases {
        let reply = browser.sign_in_as(&username, &secret).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(reply.body.contains("not accepted"), "{case}: {}", reply.body);
        assert!(set_cookies(&reply).iter().all(|(name, ..)| name != "roomlog_session"), "{case}");
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER, "{case}: still signed out");
    }
}

#[tokio::test]
async fn a_sign_in_post_without_the_form_s_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let (sid, token) = (app.account_sid.clone(), app.auth_token.clone());
    let credentials = [("username", sid.as_str()), ("password", token.as_str())];

    // A cross-site post: no nonce cookie, no token.
    let mut forged = Browser::new(&app);
    let reply = forged.post("/sign-in", &credentials).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    // A token from another browser's form does not match this browser's nonce.
    let mut theirs = Browser::new(&app);
    let their_csrf = csrf_of(&theirs.get("/sign-in").await.body);
    let mut mine = Browser::new(&app);
    mine.get("/sign-in").await;
    let reply = mine.post("/sign-in", &[credentials[0], credentials[1], ("csrf", &their_csrf)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(set_cookies(&reply).iter().all(|(name, ..)| name != "roomlog_session"));
}

#[tokio::test]
async fn signing_out_needs_the_session_s_csrf_token_and_ends_the_session() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;
    let page = browser.get("/").await;
    let csrf = csrf_of(&page.body);

    let forged = browser.post("/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status, StatusCode::OK, "a forged sign-out changes nothing");

    let reply = browser.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((reply.status, location(&reply)), (StatusCode::SEE_OTHER, "/sign-in"));
    let cleared = set_cookies(&reply);
    assert!(cleared
        .iter()
        .any(|(name, value, attrs)| name == "roomlog_session" && value.is_empty() && attrs.contains("Max-Age=0")));
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forged_tampered_or_stale_session_cookies_are_refused() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;
    let genuine = browser.cookies["roomlog_session"].clone();

    let mut flipped = genuine.clone().into_bytes();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    for (case, value) in [("garbage", "v1.abc.def".to_owned()), ("tampered", String::from_utf8(flipped).unwrap())] {
        browser.cookies.insert("roomlog_session".into(), value);
        assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER, "{case}");
    }

    // A rotated auth token ends the sessions opened with the old one.
    browser.cookies.insert("roomlog_session".into(), genuine);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    let mut account = app.state.store.account(&app.account_sid.parse().unwrap()).await.unwrap().unwrap();
    account.auth_token = "rotated".repeat(4);
    app.state.store.upsert_account(&account).await.unwrap();
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER, "after rotation");
}

#[tokio::test]
async fn room_names_and_identities_are_escaped_on_every_page() {
    let app = spawn_app().await;
    let hostile = room("<script>alert('room')</script>");
    let who = participant("<img src=x onerror=alert(1)>");
    app.ingest([hostile.created(&at(0, 0)), hostile.connected(&who, &at(0, 1))]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    for target in ["/".to_owned(), format!("/rooms/{}", hostile.sid), "/?RoomName=%3Cscript%3E".to_owned()] {
        let page = browser.get(&target).await;
        assert_eq!(page.status, StatusCode::OK, "{target}");
        assert!(!page.body.contains("<script"), "{target}: {}", page.body);
        assert!(!page.body.contains("<img"), "{target}");
    }
    // Shown as text: the escaped markup reads back as the name and the identity.
    let room_page = unescape(&browser.get(&format!("/rooms/{}", hostile.sid)).await.body);
    assert!(room_page.contains(&format!("<h1>{}</h1>", hostile.name)), "{room_page}");
    assert!(room_page.contains(&format!("<td>{}</td>", who.identity)), "the participants table");
    assert!(room_page.contains(&format!("data-identity=\"{}\"", who.identity)), "the timeline row");
}

/// Undoes the HTML entities the templates and the SVG writer use.
fn unescape(html: &str) -> String {
    let entities = [("&lt;", "<"), ("&#60;", "<"), ("&gt;", ">"), ("&#62;", ">"), ("&quot;", "\""), ("&#34;", "\"")];
    let mut text = html.to_owned();
    for (entity, character) in entities.into_iter().chain([("&#39;", "'"), ("&amp;", "&"), ("&#38;", "&")]) {
        text = text.replace(entity, character);
    }
    text
}

#[tokio::test]
async fn the_rooms_page_lists_newest_first_and_pages_with_the_api_s_tokens() {
    let app = spawn_app().await;
    let (rooms, events) = rooms_one_second_apart(5);
    app.ingest(events).await;
    let newest_first: Vec<String> = rooms.iter().rev().map(|r| r.sid.clone()).collect();
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    let first = browser.get("/?PageSize=2").await;
    assert_eq!(room_rows(&first.body), newest_first[..2]);
    assert_eq!(link(&first.body, "prev"), None, "no previous page on the first page");
    let next = link(&first.body, "next").expect("a next link");
    assert!(next.starts_with("/?PageSize=2&Page=1&PageToken=PA"), "{next}");

    // The dashboard's link is the API's next_page_url on this server, token and all.
    let api = app.get(&format!("/v1/Video/Rooms{}", &next[1..])).await.ok("the API with the dashboard's token");
    let api_sids: Vec<&str> =
        api["rooms"].as_array().unwrap().iter().map(|r| r["room_sid"].as_str().unwrap()).collect();

    let second = browser.get(&next).await;
    assert_eq!(room_rows(&second.body), newest_first[2..4]);
    assert_eq!(room_rows(&second.body), api_sids);
    let third = browser.get(&link(&second.body, "next").expect("a third page")).await;
    assert_eq!(room_rows(&third.body), newest_first[4..]);
    assert_eq!(link(&third.body, "next"), None, "the last page has no next page");

    let back = link(&third.body, "prev").expect("a previous link");
    assert!(back.contains("PageToken=PB"), "{back}");
    assert_eq!(room_rows(&browser.get(&back).await.body), newest_first[2..4]);
}

#[tokio::test]
async fn every_filter_is_reflected_in_the_form_and_narrows_the_list() {
    let app = spawn_app().await;
    let go = room_of_type("go call", "go");
    let group = room_of_type("standup", "group");
    let mut events = go.with_codecs(&at(0, 0), &["H264", "OPUS"]);
    events.extend(group.with_codecs(&at(0, 1), &["VP8"]));
    app.ingest(events).await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    let cases = [
        ("RoomType=go", vec![&go.sid]),
        ("RoomType=peer-to-peer&RoomType=group", vec![&group.sid]),
        ("Codec=H264", vec![&go.sid]),
        ("Codec=OPUS&Codec=VP8", vec![&group.sid, &go.sid]),
        ("RoomName=standup", vec![&group.sid]),
        ("CreatedAfter=2025-10-27T18:00:01Z", vec![&group.sid]),
        ("CreatedBefore=2025-10-27T18:00:01Z", vec![&go.sid]),
    ];
    for (query, expected) in cases {
        let page = browser.get(&format!("/?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        assert_eq!(room_rows(&page.body), expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{query}");
    }
    let page = browser.get("/?RoomType=go&Codec=OPUS&RoomName=go%20call&CreatedAfter=2025-10-27").await;
    for control in [
        "name=\"RoomType\" value=\"go\" checked",
        "name=\"Codec\" value=\"opus\" checked",
        "name=\"RoomName\" value=\"go call\"",
        "name=\"CreatedAfter\" value=\"2025-10-27\"",
    ] {
        assert!(page.body.contains(control), "{control} in the form");
    }
    assert!(!page.body.contains("value=\"group\" checked"));
}

#[tokio::test]
async fn a_submitted_form_s_empty_fields_are_dropped_from_the_url() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    let reply = browser.get("/?RoomType=group&RoomName=&CreatedAfter=&CreatedBefore=&PageSize=10").await;
    assert_eq!((reply.status, location(&reply)), (StatusCode::SEE_OTHER, "/?RoomType=group&PageSize=10"));
    assert_eq!(location(&browser.get("/?RoomName=").await), "/");
}

#[tokio::test]
async fn bad_filters_and_tokens_are_explained_on_the_page_with_400() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    for (query, param) in
        [("RoomType=huge", "RoomType"), ("CreatedAfter=yesterday", "CreatedAfter"), ("PageToken=PAxyz", "PageToken")]
    {
        let page = browser.get(&format!("/?{query}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.body.contains(&format!("Invalid {param}")), "{query}: {}", page.body);
        assert!(page.body.contains("<form method=\"get\""), "{query}: the form stays to fix it");
    }
}

#[tokio::test]
async fn with_no_rooms_the_page_says_how_rooms_arrive() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    assert!(browser.get("/").await.body.contains("No rooms yet"));
    assert!(browser.get("/?RoomType=go").await.body.contains("No rooms match these filters"));
}

#[tokio::test]
async fn another_account_s_rooms_are_neither_listed_nor_shown() {
    let app = spawn_app().await;
    let other: Credentials = app.create_account().await;
    let theirs = room("their room");
    let reply = app.post_events_as(&other, &serde_json::json!({"events": [theirs.created(&at(0, 0))]})).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let mine = room("my room");
    app.ingest([mine.created(&at(0, 1))]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    assert_eq!(room_rows(&browser.get("/").await.body), vec![mine.sid.clone()]);
    let page = browser.get(&format!("/rooms/{}", theirs.sid)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("their room"));
    assert_eq!(browser.get("/rooms/not-a-sid").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_room_page_draws_one_bar_per_session_and_lists_every_participant() {
    let app = spawn_app().await;
    let standup = standup();
    app.ingest(standup.events.clone()).await;
    let mut browser = Browser::new(&app);
    browser.sign_in().await;

    let page = browser.get(&format!("/rooms/{}", standup.room.sid)).await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h1>Daily standup</h1>"));
    assert_eq!(page.body.matches("<rect class=\"session ").count(), 4, "alice twice, bob, carol");
    assert_eq!(page.body.matches("<g class=\"row\" data-identity=").count(), 3, "one row per identity");
    for who in [&standup.alice, &standup.bob, &standup.carol, &standup.alice_again] {
        assert!(page.body.contains(&format!("<tr data-participant-sid=\"{}\">", who.sid)), "{} in the table", who.sid);
    }
    assert!(page.body.contains("class=\"recording-band\""), "the recordings are marked");
    assert!(page.body.contains("peak 2 at 18:00:05"), "the concurrency chart writes its peak out");
    assert!(page.body.contains("5m 00s"), "alice's first session, from her participant_duration");
}

#[tokio::test]
async fn dashboard_pages_forbid_scripts_and_framing_and_api_404s_stay_json() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    let policy = form.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(form.header("x-frame-options"), Some("DENY"));
    assert_eq!(form.header("access-control-allow-origin"), Some("*"), "the common headers still apply");
    let css = browser.get("/assets/dashboard.css").await;
    assert_eq!((css.status, css.header("content-type")), (StatusCode::OK, Some("text/css; charset=utf-8")));

    for path in ["/v1/Video/Nope", "/nope"] {
        browser.get(path).await.assert_error(404, 20404, path);
    }
}

#[tokio::test]
async fn the_events_out_page_shows_the_account_s_own_targets_with_their_queues_escaped_and_without_secrets() {
    let app = spawn_app().await;
    let store = &app.state.store;
    let account = app.account_sid.parse().expect("the account SID");
    let other = Account::generate("other");
    store.insert_account(&other).await.expect("another account");
    let hostile = "http://app.test/<script>alert(1)</script>".to_owned();
    store.set_forward_targets(&account, std::slice::from_ref(&hostile)).await.expect("a forward target");
    store.set_forward_targets(&other.sid, &["http://other.test/theirs".to_owned()]).await.expect("theirs");
    let endpoint = roomlog_core::outbox::WebhookEndpoint::generate(account, "http://hooks.test/roomlog");
    store.insert_webhook_endpoint(&endpoint).await.expect("an endpoint");
    let mut browser = Browser::new(&app);
    let before = browser.get("/events-out").await;
    assert_eq!(before.status, StatusCode::SEE_OTHER, "signed out: sent to sign in");

    // Two rooms first seen: two room.started messages pending for the endpoint (no worker runs here).
    let (first, second) = (room("one"), room("two"));
    app.ingest([first.created(&at(0, 0)), second.created(&at(0, 1))]).await;
    browser.sign_in().await;
    let page = browser.get("/events-out").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("<script"), "the URL is escaped: {}", page.body);
    assert!(!page.body.contains(&endpoint.secret), "never the endpoint's secret");
    assert!(!page.body.contains("other.test"), "never another account's targets");
    let text = unescape(&page.body);
    assert!(text.contains(&format!("<td><code>{hostile}</code></td>")), "the forward target: {text}");
    let row = text.lines().find(|l| l.contains("hooks.test")).expect("the endpoint's row");
    assert!(
        row.contains(&format!(
            "<td>{}</td><td><code>http://hooks.test/roomlog</code></td><td>2</td><td>0</td>",
            endpoint.id
        )),
        "two pending, none failed: {row}"
    );

    // Removed: its queued messages stay until the worker fails them (none runs here), and it stays
    // listed, as removed, while they remain.
    assert!(store.remove_webhook_endpoint(&endpoint.id).await.expect("removed"));
    let text = unescape(&browser.get("/events-out").await.body);
    let row = text.lines().find(|l| l.contains("hooks.test")).expect("the removed endpoint's row");
    assert!(
        row.starts_with("<tr class=\"removed\"><td>removed</td><td></td><td><code>http://hooks.test/roomlog</code></td><td>2</td><td>0</td>"),
        "kept as removed with its two queued messages: {row}"
    );
}
