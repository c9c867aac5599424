//! Credentials, account isolation and the headers on every response (docs/behaviour.md §3).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde_json::json;

use crate::fixtures::{at, participant, room};
use crate::helpers::{spawn_app, Credentials, Reply};
use crate::inspect::sids;

fn basic(username: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{username}:{secret}")))
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused_with_a_basic_challenge() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    app.ingest([lobby.created(&at(0, 0))]).await;
    let other = app.create_account().await;
    let key = app.create_api_key().await;
    let unknown = Credentials::new(roomlog_core::AccountSid::generate().to_string(), "0".repeat(32));

    let authorizations = [
        ("no Authorization header", None),
        ("a wrong auth token", Some(basic(&app.account_sid, "wrong"))),
        ("an empty auth token", Some(basic(&app.account_sid, ""))),
        ("another account's token", Some(basic(&app.account_sid, &other.secret))),
        ("an unknown account", Some(basic(&unknown.username, &unknown.secret))),
        ("an API key with a wrong secret", Some(basic(&key.username, "wrong"))),
        ("an API key with the account's token", Some(basic(&key.username, &app.auth_token))),
        ("a username that is no SID", Some(basic("alice", &app.auth_token))),
        ("a Bearer token", Some(format!("Bearer {}", app.auth_token))),
        ("Basic with bad base64", Some("Basic %%%not-base64%%%".to_owned())),
        ("Basic without a colon", Some(format!("Basic {}", STANDARD.encode(&app.account_sid)))),
    ];
    let requests = [
        (Method::GET, "/v1/Video/Rooms".to_owned()),
        (Method::GET, format!("/v1/Video/Rooms/{}", lobby.sid)),
        (Method::GET, format!("/v1/Video/Rooms/{}/Participants", lobby.sid)),
        (Method::POST, "/v1/Video/Events".to_owned()),
    ];
    for (case, authorization) in &authorizations {
        for (method, path) in &requests {
            let mut request = app.request(method.clone(), path);
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            if *method == Method::POST {
                request = request.json(&room("sneaky").created(&at(0, 0)));
            }
            let case = format!("{case}: {method} {path}");
            let reply = Reply::of(request).await;
            assert_eq!(reply.assert_error(401, 20003, &case), "Authenticate", "{case}");
            assert_eq!(reply.header("www-authenticate"), Some(r#"Basic realm="roomlog""#), "{case}");
        }
    }
    assert_eq!(app.room_sids("").await, [lobby.sid.as_str()], "no refused event was stored");
}

#[tokio::test]
async fn an_api_key_acts_for_its_account() {
    let app = spawn_app().await;
    let (lobby, hall) = (room("lobby"), room("hall"));
    app.ingest([lobby.created(&at(0, 0))]).await;
    let key = app.create_api_key().await;

    let listed = app.get_as(&key, "/v1/Video/Rooms").await.ok("listing with an API key");
    assert_eq!(sids(&listed["rooms"], "room_sid"), [lobby.sid.as_str()]);
    let reply = app.post_events_as(&key, &hall.created(&at(0, 1))).await;
    assert_eq!((reply.status.as_u16(), reply.json()), (202, json!({"accepted": 1, "duplicates": 0})));
    let room = app.room(&hall.sid).await;
    assert_eq!(room["account_sid"], app.account_sid.as_str(), "an event sent with a key belongs to its account");
}

#[tokio::test]
async fn an_account_never_sees_another_accounts_rooms() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1))]).await;
    let other = app.create_account().await;
    let own = room("theirs");
    app.post_events_as(&other, &own.created(&at(0, 2))).await;

    let theirs = app.get_as(&other, "/v1/Video/Rooms").await.ok("the other account's list");
    assert_eq!(sids(&theirs["rooms"], "room_sid"), [own.sid.as_str()], "only its own room");
    assert_eq!(app.room_sids("").await, [lobby.sid.as_str()], "and the first account only its own");
    for path in [
        format!("/v1/Video/Rooms/{}", lobby.sid),
        format!("/v1/Video/Rooms/{}/Participants", lobby.sid),
        format!("/v1/Video/Rooms/{}/Participants/{}", lobby.sid, alice.sid),
    ] {
        // The same answer as for a room that does not exist: no existence leak.
        let message = app.get_as(&other, &path).await.assert_error(404, 20404, &path);
        assert_eq!(message, format!("The requested resource {} was not found", &path[3..]), "{path}");
    }
}

#[tokio::test]
async fn events_of_another_account_for_the_same_room_sid_do_not_touch_the_room() {
    let app = spawn_app().await;
    let (lobby, alice, mallory) = (room("lobby"), participant("alice"), participant("mallory"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1))]).await;
    let before = app.room(&lobby.sid).await;
    let other = app.create_account().await;

    app.post_events_as(&other, &json!({"events": [lobby.connected(&mallory, &at(0, 2)), lobby.ended(&at(0, 3))]}))
        .await;

    assert_eq!(app.room(&lobby.sid).await, before);
    assert_eq!(
        sids(&serde_json::Value::Array(app.participants(&lobby.sid).await), "participant_sid"),
        [alice.sid.as_str()]
    );
}

fn assert_common_headers(reply: &Reply, case: &str) {
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, OPTIONS"),
        ("access-control-allow-headers", "Accept, Authorization, Content-Type, If-None-Match"),
        ("access-control-expose-headers", "ETag"),
        ("access-control-allow-credentials", "true"),
    ] {
        assert_eq!(reply.header(name), Some(value), "{case}: {name}");
    }
    let id = reply.header("twilio-request-id").unwrap_or_else(|| panic!("{case}: no Twilio-Request-Id"));
    let hex = id.strip_prefix("RQ").unwrap_or_else(|| panic!("{case}: request id {id}"));
    assert!(hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{case}: request id {id}");
}

#[tokio::test]
async fn every_response_carries_cors_headers_and_a_request_id() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    let credentials = app.credentials();
    let event = serde_json::to_vec(&lobby.created(&at(0, 0))).expect("JSON");
    let requests = [
        (
            "202 events",
            Method::POST,
            "/v1/Video/Events".to_owned(),
            Some(&credentials),
            Some((event, "application/json")),
        ),
        ("200 list", Method::GET, "/v1/Video/Rooms".to_owned(), Some(&credentials), None),
        ("200 fetch", Method::GET, format!("/v1/Video/Rooms/{}", lobby.sid), Some(&credentials), None),
        ("400 bad parameter", Method::GET, "/v1/Video/Rooms?PageSize=0".to_owned(), Some(&credentials), None),
        (
            "400 bad body",
            Method::POST,
            "/v1/Video/Events".to_owned(),
            Some(&credentials),
            Some((b"nope".to_vec(), "text/plain")),
        ),
        ("401 no credentials", Method::GET, "/v1/Video/Rooms".to_owned(), None, None),
        ("404 unknown room", Method::GET, format!("/v1/Video/Rooms/{}", room("x").sid), Some(&credentials), None),
        ("404 unknown path", Method::GET, "/nowhere".to_owned(), None, None),
        ("405 write method", Method::DELETE, "/v1/Video/Rooms".to_owned(), Some(&credentials), None),
        ("200 health", Method::GET, "/healthz".to_owned(), None, None),
        ("204 preflight", Method::OPTIONS, "/v1/Video/Rooms".to_owned(), None, None),
    ];
    let mut ids = Vec::new();
    for (case, method, path, auth, body) in requests {
        let reply = app.send(method, &path, auth, body).await;
        assert_eq!(reply.status.as_u16().to_string(), case[..3], "{case}: status; body {}", reply.body);
        assert_common_headers(&reply, case);
        ids.push(reply.header("twilio-request-id").map(str::to_owned));
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "every response has its own request id");
}

#[tokio::test]
async fn a_preflight_is_answered_204_without_credentials() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    for path in [
        "/v1/Video/Rooms".to_owned(),
        format!("/v1/Video/Rooms/{}/Participants", lobby.sid),
        "/v1/Video/Events".to_owned(),
    ] {
        let request = app
            .request(Method::OPTIONS, &path)
            .header("Origin", "https://dashboard.example.com")
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization");
        let reply = Reply::of(request).await;
        assert_eq!(reply.status.as_u16(), 204, "OPTIONS {path}: {}", reply.body);
        assert!(reply.body.is_empty(), "OPTIONS {path}: no body");
        assert_common_headers(&reply, &format!("OPTIONS {path}"));
    }
}
