//! LiveKit webhooks over real HTTP (docs/behaviour.md §4.4): a session with re-joins, simulcast, a
//! recorder, an egress with two files, an aborted connection, a lost `participant_left` and a
//! room still open, replayed in order and shuffled with duplicates; every refusal stores nothing.
//! The official SDKs build and verify the same kind of bodies in conformance/ (Python, Node).

use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use reqwest::Method;
use roomlog_core::account::LiveKitKey;
use roomlog_core::source::livekit_webhook::{participant_sid, room_sid};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app_with, Credentials, Reply, Settings, TestApp};
use crate::inspect::without_urls;

const KEY: &str = "APIroomlogtest";
const SECRET: &str = "a-livekit-secret-of-thirty-two-chars";
/// 2026-02-17T18:11:40Z.
const T: i64 = 1_771_351_900;
const WEBHOOK: &str = "/v1/Video/LiveKit/Webhook";

fn at(offset: i64) -> String {
    (T + offset).to_string()
}

fn ms(offset_ms: i64) -> String {
    (T * 1000 + offset_ms).to_string()
}

fn room() -> Value {
    json!({"sid": "RM_standup", "name": "standup", "emptyTimeout": 300, "maxParticipants": 20,
           "creationTime": at(0), "creationTimeMs": ms(250), "enabledCodecs": [{"mime": "video/VP9"}]})
}

fn person(sid: &str, identity: &str, joined_ms: i64) -> Value {
    json!({"sid": sid, "identity": identity, "state": "ACTIVE", "joinedAt": at(joined_ms / 1000),
           "joinedAtMs": ms(joined_ms), "isPublisher": true})
}

/// The session as LiveKit's server sends it (protobuf JSON), in the order it happened.
fn session() -> Vec<Value> {
    let mut left_a1 = person("PA_alice1", "alice", 10_500);
    left_a1["state"] = "DISCONNECTED".into();
    left_a1["disconnectReason"] = "SIGNAL_CLOSE".into();
    let mut left_a2 = person("PA_alice2", "alice", 110_000);
    left_a2["disconnectReason"] = "CLIENT_INITIATED".into();
    let recorder = json!({"sid": "PA_rec", "identity": "EG_rec", "kind": "EGRESS", "joinedAt": at(30)});
    let egress = |status: &str, files: Value| {
        json!({"egressId": "EG_rec", "roomId": "RM_standup", "roomName": "standup", "status": status,
               "startedAt": ms(30_000), "fileResults": files})
    };
    let files = json!([{"filename": "a.mp4", "duration": "259999999999", "size": "1000"},
                       {"filename": "b.mp4", "duration": "10500000000"}]);
    let mut ended = egress("EGRESS_COMPLETE", files.clone());
    ended["file"] = files[0].clone();
    let open_room = json!({"sid": "RM_open", "name": "open", "creationTime": at(1000)});
    vec![
        json!({"event": "room_started", "id": "EV_room_start", "createdAt": at(1), "room": room()}),
        json!({"event": "participant_joined", "id": "EV_join_a1", "createdAt": at(11), "room": room(),
               "participant": person("PA_alice1", "alice", 10_500)}),
        json!({"event": "track_published", "id": "EV_track_a1", "createdAt": at(12),
               "room": {"sid": "RM_standup", "name": "standup"},
               "participant": {"sid": "PA_alice1", "identity": "alice"},
               "track": {"sid": "TR_cam", "type": "VIDEO", "name": "camera", "mimeType": "video/VP8",
                         "codecs": [{"mimeType": "video/VP8", "mid": "1"}, {"mimeType": "video/H264", "mid": "2"}]}}),
        json!({"event": "participant_joined", "id": "EV_join_b1", "createdAt": at(20), "room": room(),
               "participant": person("PA_bob", "bob", 20_000)}),
        json!({"event": "track_published", "id": "EV_track_b1", "createdAt": at(21),
               "room": {"sid": "RM_standup", "name": "standup"}, "participant": {"sid": "PA_bob", "identity": "bob"},
               "track": {"sid": "TR_mic", "name": "mic", "mimeType": "audio/red"}}),
        json!({"event": "participant_joined", "id": "EV_join_rec", "createdAt": at(30), "room": room(),
               "participant": recorder.clone()}),
        json!({"event": "egress_started", "id": "EV_egress_1", "createdAt": at(30),
               "egressInfo": egress("EGRESS_STARTING", json!([]))}),
        json!({"event": "egress_updated", "id": "EV_egress_2", "createdAt": at(31),
               "egressInfo": egress("EGRESS_ACTIVE", json!([]))}),
        json!({"event": "participant_connection_aborted", "id": "EV_abort_c", "createdAt": at(40), "room": room(),
               "participant": {"sid": "PA_carol", "identity": "carol", "state": "JOINING"}}),
        json!({"event": "participant_left", "id": "EV_left_a1", "createdAt": at(100), "room": room(),
               "participant": left_a1}),
        json!({"event": "participant_joined", "id": "EV_join_a2", "createdAt": at(110), "room": room(),
               "participant": person("PA_alice2", "alice", 110_000)}),
        json!({"event": "participant_left", "id": "EV_left_a2", "createdAt": at(250), "room": room(),
               "participant": left_a2}),
        // bob's participant_left never arrives: he leaves at the room's end.
        json!({"event": "participant_left", "id": "EV_left_rec", "createdAt": at(290), "room": room(),
               "participant": recorder}),
        json!({"event": "egress_ended", "id": "EV_egress_3", "createdAt": at(295), "egressInfo": ended}),
        json!({"event": "room_finished", "id": "EV_room_end", "createdAt": at(300), "room": room()}),
        json!({"event": "room_started", "id": "EV_open_start", "createdAt": at(1000), "room": open_room}),
        json!({"event": "participant_joined", "id": "EV_open_join", "createdAt": at(1005), "room": open_room,
               "participant": person("PA_dave", "dave", 1_005_000)}),
    ]
}

fn iso(offset: i64) -> String {
    chrono::DateTime::from_timestamp(T + offset, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The summaries worked out by hand from §4.4 and §5 (exact instants: the room was created at
/// T + 0.25 s, alice first joined at T + 10.5 s).
fn expected_room() -> Value {
    json!({
        "room_sid": room_sid("RM_standup").to_string(), "room_name": "standup", "room_type": "group",
        "room_status": "completed", "create_time": iso(0), "end_time": iso(300),
        "duration_sec": 299,                  // floor(300 - 0.25)
        "unique_participants": 3,             // alice twice (two LiveKit sids) and bob; not the recorder or carol
        "unique_participant_identities": 2,
        "concurrent_participants": 2,
        "total_participant_duration_sec": 509, // 89 + 280 + 140
        "total_recording_duration_sec": 269,   // 259.999… s + 10.5 s, each floored
        "recording_enabled": true, "codecs": ["VP8", "H264", "opus"], "max_participants": 20,
        "end_reason": null, "processing_state": "complete", "media_region": null, "created_method": null,
    })
}

fn expected_participants() -> Vec<Value> {
    let one = |sid: &str, identity: &str, join: i64, leave: i64, duration: i64, codecs: Value, reason: Value| {
        json!({"participant_sid": participant_sid(sid).to_string(), "participant_identity": identity,
               "join_time": iso(join), "leave_time": iso(leave), "duration_sec": duration,
               "status": "completed", "codecs": codecs, "end_reason": reason})
    };
    vec![
        one("PA_alice1", "alice", 10, 100, 89, json!(["VP8", "H264"]), json!("signal_close")),
        one("PA_bob", "bob", 20, 300, 280, json!(["opus"]), Value::Null),
        one("PA_alice2", "alice", 110, 250, 140, json!([]), json!("client_initiated")),
    ]
}

/// A token as LiveKit's server signs one: HS256 with the secret, `iss` = the key, the body hash.
fn token(key: &str, secret: &str, body: &[u8], exp_offset: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    let claims = json!({"iss": key, "nbf": now - 1, "exp": now + exp_offset, "sha256": sha, "video": {}});
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn post(app: &TestApp, body: &str, authorization: Option<String>) -> Reply {
    let mut request = app.request(Method::POST, WEBHOOK).header("content-type", "application/webhook+json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    Reply::of(request.body(body.to_owned())).await
}

async fn send(app: &TestApp, event: &Value) -> Value {
    let body = event.to_string();
    post(app, &body, Some(token(KEY, SECRET, body.as_bytes(), 300))).await.ok("a signed webhook")
}

async fn app() -> TestApp {
    let app = spawn_app_with(Settings::default()).await;
    let key =
        LiveKitKey { api_key: KEY.into(), account_sid: app.account_sid.parse().unwrap(), api_secret: SECRET.into() };
    app.state.store.put_livekit_key(&key, false).await.unwrap();
    app
}

/// The room as served, without its own URLs and the fields a webhook cannot know.
async fn served(app: &TestApp) -> (Value, Vec<Value>) {
    let room = without_urls(&app.room(room_sid("RM_standup").as_ref()).await);
    let participants = app.participants(room_sid("RM_standup").as_ref()).await.iter().map(without_urls).collect();
    (room, participants)
}

fn assert_subset(actual: &Value, expected: &Value, case: &str) {
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&actual[key], value, "{case}: {key}");
    }
}

#[tokio::test]
async fn a_session_replayed_in_order_gives_the_hand_checked_summaries() {
    let app = app().await;
    for event in session() {
        let answer = send(&app, &event).await;
        assert_eq!(answer, json!({"accepted": 1, "duplicates": 0}), "{}", event["id"]);
    }
    let (room, participants) = served(&app).await;
    assert_subset(&room, &expected_room(), "room");
    assert_eq!(participants.len(), 3, "{participants:#?}");
    for (actual, expected) in participants.iter().zip(expected_participants()) {
        assert_subset(actual, &expected, expected["participant_identity"].as_str().unwrap());
    }
    let open = app.room(room_sid("RM_open").as_ref()).await;
    assert_eq!((open["room_status"].as_str(), &open["end_time"]), (Some("in_progress"), &Value::Null));
    let dave = &app.participants(room_sid("RM_open").as_ref()).await[0];
    assert_eq!((dave["status"].as_str(), &dave["duration_sec"]), (Some("in_progress"), &Value::Null));
}

#[tokio::test]
async fn shuffled_and_repeated_webhooks_give_the_same_summaries() {
    let ordered = app().await;
    for event in session() {
        send(&ordered, &event).await;
    }
    let shuffled = app().await;
    let mut events: Vec<Value> = session().into_iter().flat_map(|e| [e.clone(), e]).collect();
    events.shuffle(&mut rand::rngs::StdRng::seed_from_u64(12));
    let (mut accepted, mut duplicates) = (0, 0);
    for event in &events {
        let answer = send(&shuffled, event).await;
        accepted += answer["accepted"].as_u64().unwrap();
        duplicates += answer["duplicates"].as_u64().unwrap();
    }
    assert_eq!((accepted, duplicates), (session().len() as u64, session().len() as u64));
    let (room_a, participants_a) = served(&ordered).await;
    let (room_b, participants_b) = served(&shuffled).await;
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("account_sid");
        v
    };
    assert_eq!(strip(room_a), strip(room_b));
    assert_eq!(
        participants_a.into_iter().map(strip).collect::<Vec<_>>(),
        participants_b.into_iter().map(strip).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn every_refusal_is_a_401_and_stores_nothing() {
    let app = app().await;
    let event = &session()[0];
    let body = event.to_string();
    let tampered = body.replace("standup", "standuq");
    let cases: Vec<(&str, &str, Option<String>)> = vec![
        ("no header", &body, None),
        ("empty header", &body, Some(String::new())),
        ("not a JWT", &body, Some("garbage".into())),
        ("wrong secret", &body, Some(token(KEY, "another-secret", body.as_bytes(), 300))),
        ("unknown key", &body, Some(token("APIunknown", SECRET, body.as_bytes(), 300))),
        ("tampered body", &tampered, Some(token(KEY, SECRET, body.as_bytes(), 300))),
        ("expired beyond the leeway", &body, Some(token(KEY, SECRET, body.as_bytes(), -120))),
        (
            "no body hash",
            &body,
            Some({
                let claims = json!({"iss": KEY, "exp": chrono::Utc::now().timestamp() + 300});
                encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
            }),
        ),
        (
            "alg none",
            &body,
            Some(format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(&json!({"iss": KEY, "exp": 9_999_999_999i64}).to_string())
            )),
        ),
    ];
    for (case, sent, authorization) in cases {
        let reply = post(&app, sent, authorization).await;
        reply.assert_error(401, 20003, case);
    }
    assert!(app.room_sids("").await.is_empty(), "nothing was stored");
    // Within the leeway, and with a Bearer prefix, the same body is accepted.
    let late = token(KEY, SECRET, body.as_bytes(), -30);
    post(&app, &body, Some(format!("Bearer {late}"))).await.ok("expired 30 s ago, within the 60 s leeway");
    assert_eq!(app.room_sids("").await, [room_sid("RM_standup").to_string()]);
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn a_key_signs_only_for_its_own_account_and_a_removed_key_stops_working() {
    let app = app().await;
    let other = app.create_account().await;
    let other_key = LiveKitKey {
        api_key: "APIother".into(),
        account_sid: other.username.parse().unwrap(),
        api_secret: "the-other-secret".into(),
    };
    app.state.store.put_livekit_key(&other_key, false).await.unwrap();
    let body = session()[0].to_string();
    post(&app, &body, Some(token("APIother", "the-other-secret", body.as_bytes(), 300))).await.ok("the other key");
    assert!(app.room_sids("").await.is_empty(), "the other account's key writes to the other account only");
    let theirs = app.get_as(&Credentials::new(other.username.clone(), other.secret.clone()), "/v1/Video/Rooms").await;
    assert_eq!(theirs.ok("the other account's rooms")["rooms"].as_array().unwrap().len(), 1);

    // Used (and so cached) before it is removed.
    send(&app, &session()[1]).await;
    assert!(app.state.store.remove_livekit_key(KEY).await.unwrap());
    let mut refused = false;
    for _ in 0..50 {
        let second = session()[3].to_string();
        if post(&app, &second, Some(token(KEY, SECRET, second.as_bytes(), 300))).await.status.as_u16() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refused, "a removed key is refused within seconds, without a restart");
}

#[tokio::test]
async fn bodies_without_a_room_are_acknowledged_and_bad_bodies_are_400s() {
    let app = app().await;
    let web = json!({"event": "egress_started", "id": "EV_web", "createdAt": at(5),
                     "egressInfo": {"egressId": "EG_web", "status": "EGRESS_STARTING"}});
    assert_eq!(send(&app, &web).await, json!({"accepted": 0, "duplicates": 0, "ignored": 1}));
    for (case, body) in [
        ("not JSON", "{".to_owned()),
        ("a string where a room is", json!({"event": "room_started", "room": "RM_x"}).to_string()),
        ("a room event without a room", json!({"event": "room_started", "createdAt": at(1)}).to_string()),
        (
            "a participant event without a participant",
            json!({"event": "participant_joined", "room": room()}).to_string(),
        ),
    ] {
        let reply = post(&app, &body, Some(token(KEY, SECRET, body.as_bytes(), 300))).await;
        reply.assert_error(400, 20001, case);
    }
    assert!(app.room_sids("").await.is_empty());
}

#[tokio::test]
async fn keys_are_managed_by_the_cli_and_the_environment_while_the_server_runs() {
    let database = crate::database::Database::fresh().await;
    let url = database.url();
    let account = crate::binary::create_account(url).await;
    let add = |key: &'static str, secret: &'static str| {
        let account = account.username.clone();
        async move {
            crate::binary::roomlog(
                &[
                    "livekit",
                    "add",
                    "--account",
                    &account,
                    "--api-key",
                    key,
                    "--api-secret",
                    secret,
                    "--database-url",
                    url,
                ],
                &[],
            )
            .await
        }
    };
    add("APIcli", "cli-secret").await.ok("livekit add");
    let again = add("APIcli", "another").await;
    assert!(!again.success && again.stderr.contains("exists"), "a second add is refused: {}", again.stderr);
    let list = crate::binary::roomlog(&["livekit", "list", "--database-url", url], &[]).await;
    let listed = list.ok("livekit list");
    assert!(listed.contains("APIcli") && listed.contains(&account.username), "{listed}");
    assert!(!listed.contains("cli-secret"), "secrets are never printed");

    let node = crate::process::Node::start(
        url,
        &account,
        &["--livekit-api-key", "APIenv", "--livekit-api-secret", "env-secret"],
    )
    .await;
    let signed = |key: &str, secret: &str, event: &Value| {
        let body = event.to_string();
        let authorization = token(key, secret, body.as_bytes(), 300);
        node.api.request(Method::POST, WEBHOOK).header("authorization", authorization).body(body)
    };
    let events = session();
    Reply::of(signed("APIenv", "env-secret", &events[0])).await.ok("the environment's key");
    Reply::of(signed("APIcli", "cli-secret", &events[1])).await.ok("the CLI's key");
    assert_eq!(node.api.room(room_sid("RM_standup").as_ref()).await["unique_participants"], 1);

    crate::binary::roomlog(&["livekit", "remove", "APIcli", "--database-url", url], &[]).await.ok("livekit remove");
    let mut status = 200;
    for _ in 0..50 {
        status = Reply::of(signed("APIcli", "cli-secret", &events[3])).await.status.as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 401, "a key removed by the CLI is refused by the running server within seconds");
    let unknown = crate::binary::roomlog(&["livekit", "remove", "APInone", "--database-url", url], &[]).await;
    assert!(!unknown.success && unknown.stderr.contains("no LiveKit key"), "{}", unknown.stderr);
    node.kill_9().await;
}

#[tokio::test]
async fn the_room_page_names_the_source_its_livekit_sids_and_aborted_connections() {
    let app = app().await;
    for event in session() {
        send(&app, &event).await;
    }
    let mut browser = crate::dashboard::Browser::new(&app);
    browser.sign_in().await;
    let page = browser.get(&format!("/rooms/{}", room_sid("RM_standup"))).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    let html = page.body;
    assert!(html.contains("LiveKit webhooks (15 events)"), "the source and its count:\n{html}");
    assert!(html.contains("<dt>LiveKit room SID</dt><dd>RM_standup</dd>"), "the original room SID:\n{html}");
    assert!(html.contains("<dt>Aborted connections</dt><dd>1</dd>"), "carol's aborted connection is counted");
    for (sid, livekit) in [("PA_alice1", "PA_alice1"), ("PA_bob", "PA_bob"), ("PA_alice2", "PA_alice2")] {
        let row = html.split(&format!("<tr data-participant-sid=\"{}\"", participant_sid(sid))).nth(1).expect("a row");
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!("<code>{livekit}</code>")), "{sid}'s LiveKit SID in its row: {row}");
    }
    assert!(!html.contains("PA_rec") && !html.contains("carol"), "the recorder and the aborted session are not listed");
}

const KINDS: [&str; 4] = ["room_started", "egress_ended", "track_published", "x"];

#[tokio::test]
async fn arbitrary_bodies_and_headers_never_get_a_5xx() {
    use rand::Rng;
    let app = app().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(44);
    let valid = session()[9].to_string();
    for i in 0..300 {
        // Bytes, mutated real bodies, and JSON of the wrong shapes, signed and unsigned.
        let body: Vec<u8> = match i % 3 {
            0 => (0..rng.gen_range(0..300)).map(|_| rng.gen()).collect(),
            1 => {
                let mut bytes = valid.clone().into_bytes();
                for _ in 0..rng.gen_range(1..8) {
                    let at = rng.gen_range(0..bytes.len());
                    bytes[at] = rng.gen();
                }
                bytes
            }
            _ => json!({"event": KINDS[i % 4],
                        "room": {"sid": rng.gen::<u32>().to_string(), "creationTime": rng.gen::<i64>()},
                        "participant": {"sid": "PA_x", "joinedAtMs": rng.gen::<f64>(), "kind": rng.gen::<u8>()},
                        "track": {"sid": "TR", "type": rng.gen::<i8>(), "codecs": [{"mimeType": 7}]},
                        "egressInfo": {"roomId": "RM_y", "fileResults": [{"duration": rng.gen::<i64>()}]}})
            .to_string()
            .into_bytes(),
        };
        let authorization = match i % 4 {
            0 => None,
            1 => Some((0..rng.gen_range(0..80)).map(|_| rng.gen_range(' '..='~')).collect::<String>()),
            _ => Some(token(KEY, SECRET, &body, 300)),
        };
        let mut request = app.request(Method::POST, WEBHOOK).body(body.clone());
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let reply = Reply::of(request).await;
        assert!(reply.status.as_u16() < 500, "case {i}: {} {}", reply.status, reply.body);
    }
}
