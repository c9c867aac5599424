//! Events out (docs/behaviour.md §6): the real binary forwards callbacks and sends room webhooks
//! to real local receivers, through faults — refusals, hangs, a target that is down, a gone
//! target, `kill -9`, and two nodes of which one dies mid-delivery. Delivery is at least once:
//! every test counts what arrived, and repeats are reported, never silently allowed to be loss.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use roomlog_core::signature;
use serde_json::Value;
use sha2::Sha256;

use crate::binary::{create_account, roomlog};
use crate::database::Database;
use crate::fixtures::twilio_callbacks;
use crate::helpers::{Api, Credentials};
use crate::process::Node;
use crate::receiver::{free_address, Answer, Received, Receiver, DELIVERY_TIMEOUT};

const PUBLIC_URL: &str = "http://roomlog.test";
const ROOM_A: &str = "RM00000000000000000000000000000a01";
const ROOM_B: &str = "RM00000000000000000000000000000b01";
/// Long enough for any delivery here, retries included, on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn new_account() -> Credentials {
    let account = roomlog_core::account::Account::generate("outbox");
    Credentials::new(account.sid.to_string(), account.auth_token)
}

/// A fresh database with one account, served by one node.
async fn deployment() -> (Database, Credentials, Node) {
    let database = Database::fresh().await;
    let account = new_account();
    let node = node(&database, &account, &[]).await;
    (database, account, node)
}

async fn node(database: &Database, account: &Credentials, extra: &[&str]) -> Node {
    let mut args = vec!["--public-url", PUBLIC_URL];
    args.extend_from_slice(extra);
    Node::start(database.url(), account, &args).await
}

/// `roomlog accounts update SID --forward-to URL…`, on the database a node serves.
async fn forward_to(database: &Database, account: &str, urls: &[String]) {
    let mut args = vec!["accounts", "update", account, "--database-url", database.url()];
    for url in urls {
        args.extend(["--forward-to", url.as_str()]);
    }
    roomlog(&args, &[]).await.ok("accounts update --forward-to");
}

/// `roomlog webhooks add`: the endpoint's id and its secret, printed once.
async fn add_webhook(database: &Database, account: &str, url: &str) -> (String, String) {
    let run =
        roomlog(&["webhooks", "add", "--account", account, "--url", url, "--database-url", database.url()], &[]).await;
    let out = run.ok("webhooks add");
    let field = |name: &str| out.lines().find_map(|l| l.strip_prefix(name)).expect("a printed field").trim().to_owned();
    (field("id:"), field("secret:"))
}

/// The lines of `roomlog outbox failed` after its header.
async fn failed(database: &Database) -> Vec<String> {
    let run = roomlog(&["outbox", "failed", "--database-url", database.url()], &[]).await;
    run.ok("outbox failed").lines().skip(1).map(str::to_owned).collect()
}

/// Sends each callback (signed for roomlog's public URL, with a unique idempotency token) and
/// insists it is acknowledged; returns the tokens.
async fn send(api: &Api, callbacks: &[Vec<(String, String)>]) -> Vec<String> {
    let mut tokens = Vec::new();
    for params in callbacks {
        let token = format!("idem-{}", roomlog_core::AccountSid::generate());
        let reply = api.post_callback(PUBLIC_URL, params, Some(&token)).await;
        assert_eq!(reply.status.as_u16(), 204, "{params:?}: {}", reply.body);
        tokens.push(token);
    }
    tokens
}

/// Delivered forwards per idempotency token.
fn forwards_by_token(log: &[Received]) -> BTreeMap<String, Vec<&Received>> {
    let mut by_token: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for request in log.iter().filter(|r| r.accepted) {
        let token = request.header("i-twilio-idempotency-token").unwrap_or("(none)").to_owned();
        by_token.entry(token).or_default().push(request);
    }
    by_token
}

/// Waits until every token has been delivered to `receiver`; prints and returns the repeats.
async fn all_forwarded(receiver: &Receiver, tokens: &[String], case: &str) -> usize {
    let log = receiver
        .wait_until(PATIENCE, case, |log| {
            let delivered = forwards_by_token(log);
            tokens.iter().all(|t| delivered.contains_key(t))
        })
        .await;
    let delivered = forwards_by_token(&log);
    let repeats: usize = tokens.iter().map(|t| delivered[t].len() - 1).sum();
    println!("{case}: {} callbacks forwarded, {repeats} repeats", tokens.len());
    repeats
}

/// A forward is the callback's parameters, unchanged, signed for the target URL with the
/// account's auth token.
fn assert_forward(request: &Received, target: &str, auth_token: &str, sent: &[(String, String)]) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.params(), sent, "the forward carries the callback's parameters, unchanged");
    let presented = request.header("x-twilio-signature").expect("a forward is signed");
    assert_eq!(presented, signature::compute(auth_token, target, sent), "signed for {target}");
    assert!(signature::verify(auth_token, target, &request.params(), presented));
}

/// Checks a Standard Webhooks signature independently of roomlog's signer: HMAC-SHA256 keyed
/// with the base64 after `whsec_`, over `id.timestamp.body`, and a timestamp within 5 minutes.
fn assert_standard_webhook(request: &Received, secret: &str) {
    let id = request.header("webhook-id").expect("webhook-id");
    let timestamp = request.header("webhook-timestamp").expect("webhook-timestamp");
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().expect("UNIX seconds");
    assert!(age.abs() < 300, "webhook-timestamp is current: {timestamp}");
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    let signatures = request.header("webhook-signature").expect("webhook-signature");
    assert!(signatures.split(' ').any(|s| s == expected), "a valid v1 signature among {signatures:?}");
    assert_eq!(request.header("content-type"), Some("application/json"));
}

fn body(request: &Received) -> Value {
    serde_json::from_str(&request.body).expect("a JSON webhook body")
}

fn of_type<'a>(log: &'a [Received], kind: &str, room: &str) -> Vec<&'a Received> {
    log.iter()
        .filter(|r| r.accepted && r.header("content-type") == Some("application/json"))
        .filter(|r| {
            let body = body(r);
            body["type"] == kind && body["data"]["room"]["room_sid"] == room
        })
        .collect()
}

#[tokio::test]
async fn callbacks_are_forwarded_re_signed_for_each_target_and_forgeries_never() {
    let (database, account, node) = deployment().await;
    let (app, audit) = (Receiver::start().await, Receiver::start().await);
    let targets = [app.url("/twilio/status?tenant=a%20b&x=1"), audit.url("/audit")];
    forward_to(&database, &account.username, &targets).await;

    let callbacks = twilio_callbacks(&account.username);
    let tokens = send(&node.api, &callbacks[..26]).await;
    // A GET callback (parameters in the query, signed with the URL) is forwarded as a POST.
    let get_params = vec![
        ("AccountSid".to_owned(), account.username.clone()),
        ("RoomSid".to_owned(), "RM00000000000000000000000000000c01".to_owned()),
        ("RoomName".to_owned(), "by-get".to_owned()),
        ("RoomStatus".to_owned(), "in-progress".to_owned()),
        ("RoomType".to_owned(), "group".to_owned()),
        ("StatusCallbackEvent".to_owned(), "room-created".to_owned()),
        ("Timestamp".to_owned(), "2025-10-27T19:00:00.000Z".to_owned()),
    ];
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(&get_params).finish();
    let signed_url = format!("{PUBLIC_URL}/v1/Video/Callbacks?{query}");
    let reply = crate::helpers::Reply::of(
        node.api
            .request(reqwest::Method::GET, &format!("/v1/Video/Callbacks?{query}"))
            .header("X-Twilio-Signature", signature::compute(&account.secret, &signed_url, &[]))
            .header("I-Twilio-Idempotency-Token", "idem-by-get"),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 204, "a signed GET callback: {}", reply.body);
    // Forged (the wrong token) and refused: never forwarded.
    let mut forged = callbacks[1].clone();
    forged.iter_mut().find(|(k, _)| k == "ParticipantIdentity").expect("an identity").1 = "mallory".into();
    let forger = Api::new(node.api.base_url.clone(), Credentials::new(&account.username, "0".repeat(32)));
    let reply = forger.post_callback(PUBLIC_URL, &forged, Some("idem-forged")).await;
    assert_eq!(reply.status.as_u16(), 403, "{}", reply.body);
    // Sent last, so its forward would be queued after every other.
    let last = send(&node.api, &callbacks[26..27]).await;

    let mut all = tokens.clone();
    all.extend(last.iter().cloned());
    all.push("idem-by-get".into());
    let mut sent: BTreeMap<&str, &[(String, String)]> =
        tokens.iter().map(String::as_str).zip(callbacks.iter().map(Vec::as_slice)).collect();
    sent.insert(&last[0], &callbacks[26]);
    sent.insert("idem-by-get", &get_params);
    for (receiver, target) in [(&app, &targets[0]), (&audit, &targets[1])] {
        all_forwarded(receiver, &all, target).await;
        let log = receiver.log();
        for (token, forwards) in forwards_by_token(&log) {
            let params = sent.get(token.as_str()).unwrap_or_else(|| panic!("{target} got an unsent callback {token}"));
            for forward in forwards {
                assert_forward(forward, target, &account.secret, params);
                assert!(forward.uri.to_string().ends_with(target.split_once(&receiver.address.to_string()).unwrap().1));
            }
        }
        assert!(log.iter().all(|r| !r.body.contains("mallory")), "the forged callback was never forwarded");
    }
    node.kill_9().await;
}

#[tokio::test]
async fn each_account_s_messages_go_only_to_its_own_targets() {
    let database = Database::fresh().await;
    let first = new_account();
    let node = node(&database, &first, &[]).await;
    let second = create_account(database.url()).await;
    let (first_app, second_app) = (Receiver::start().await, Receiver::start().await);
    forward_to(&database, &first.username, &[first_app.url("/a")]).await;
    forward_to(&database, &second.username, &[second_app.url("/b")]).await;
    let (_, first_secret) = add_webhook(&database, &first.username, &first_app.url("/hooks")).await;
    let (_, second_secret) = add_webhook(&database, &second.username, &second_app.url("/hooks")).await;

    let second_api = Api::new(node.api.base_url.clone(), second.clone());
    let first_tokens = send(&node.api, &twilio_callbacks(&first.username)).await;
    // Rooms of its own, with SIDs the first account does not use.
    let second_tokens = send(&second_api, &renumber(&twilio_callbacks(&second.username)[..5], 1)).await;
    all_forwarded(&first_app, &first_tokens, "first account").await;
    all_forwarded(&second_app, &second_tokens, "second account").await;
    let cases = [(&first_app, &first, &first_secret, ROOM_B), (&second_app, &second, &second_secret, ROOM_A)];
    for (receiver, account, secret, last_room) in cases {
        let room = if account == &first { last_room.to_owned() } else { renumbered(last_room, 1) };
        let log = receiver
            .wait_until(PATIENCE, "room.started of its rooms", |log| !of_type(log, "room.started", &room).is_empty())
            .await;
        for request in log.iter().filter(|r| r.accepted) {
            if request.uri.path() == "/hooks" {
                assert_standard_webhook(request, secret);
                assert_eq!(body(request)["data"]["room"]["account_sid"], account.username.as_str());
            } else {
                let sid = request.params().into_iter().find(|(k, _)| k == "AccountSid").map(|(_, v)| v);
                assert_eq!(sid.as_deref(), Some(account.username.as_str()), "only its own account's callbacks");
                assert_forward(request, &receiver.url(request.uri.path()), &account.secret, &request.params());
            }
        }
    }
    node.kill_9().await;
}

#[tokio::test]
async fn room_webhooks_carry_the_room_as_served_signed_per_standard_webhooks_with_a_stable_id() {
    let (database, account, node) = deployment().await;
    let hooks = Receiver::start().await;
    // Refused once, then taken: the retry carries the first attempt's webhook-id.
    hooks.script(&[Answer::Status(503, Some(1))]);
    let (endpoint, secret) = add_webhook(&database, &account.username, &hooks.url("/roomlog")).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = roomlog(&["webhooks", "list", "--database-url", database.url()], &[]).await;
    let listed = listed.ok("webhooks list");
    assert!(listed.contains(&endpoint) && !listed.contains(&secret), "listed without its secret: {listed}");

    // Room A ends, then late events (a participant leaves, recordings complete) change it.
    send(&node.api, &twilio_callbacks(&account.username)).await;
    let room_a = node.api.room(ROOM_A).await;
    let participants_a = Value::from(node.api.participants(ROOM_A).await);
    let as_served =
        |r: &&Received| body(r)["data"]["room"] == room_a && body(r)["data"]["participants"] == participants_a;
    let log = hooks
        .wait_until(PATIENCE, "started of A and B, completed of A as served now, the refused message retried", |log| {
            !of_type(log, "room.started", ROOM_A).is_empty()
                && !of_type(log, "room.started", ROOM_B).is_empty()
                && of_type(log, "room.completed", ROOM_A).iter().any(as_served)
                && log.iter().any(|r| r.accepted && r.header("webhook-id") == log[0].header("webhook-id"))
        })
        .await;
    let first = &log[0];
    assert!(!first.accepted, "the first attempt was refused");
    let retried: Vec<_> = log.iter().filter(|r| r.header("webhook-id") == first.header("webhook-id")).collect();
    assert!(retried.len() >= 2 && retried.iter().any(|r| r.accepted), "retried with the same webhook-id");
    assert_eq!(body(retried[0]), body(retried[retried.len() - 1]), "the body is fixed when queued");

    let completed = of_type(&log, "room.completed", ROOM_A);
    for request in &completed {
        assert_standard_webhook(request, &secret);
        let body = body(request);
        assert_eq!(body["data"]["room"]["processing_state"], "complete");
        chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().expect("a timestamp")).expect("RFC 3339");
    }
    // Changed after it was announced: announced again, as a new message with a new id.
    let announced: BTreeSet<_> = completed.iter().filter_map(|r| r.header("webhook-id")).collect();
    assert!(announced.len() >= 2, "room A announced again after its late events: {announced:?}");
    assert!(completed.iter().any(|r| !as_served(r)), "the first announcement carried the room as it was then");
    for room in [ROOM_A, ROOM_B] {
        let started = of_type(&log, "room.started", room);
        assert_standard_webhook(started[0], &secret);
        assert_eq!(body(started[0])["data"]["room"]["room_sid"], room);
        assert!(body(started[0])["data"].get("participants").is_none(), "room.started carries the room only");
    }
    let ids: BTreeSet<_> = log.iter().filter(|r| r.accepted).filter_map(|r| r.header("webhook-id")).collect();
    println!("webhooks: {} delivered, {} distinct ids, {} completed of A", log.len(), ids.len(), completed.len());
    assert!(of_type(&log, "room.completed", ROOM_B).is_empty(), "room B has not ended");
    node.kill_9().await;
}

#[tokio::test]
async fn refusals_and_hangs_are_retried_until_delivered() {
    let (database, account, node) = deployment().await;
    let app = Receiver::start().await;
    // 503 with Retry-After, a 500, a 429, then a hang past the timeout: each attempt is retried.
    app.script(&[
        Answer::Status(503, Some(1)),
        Answer::Status(500, None),
        Answer::Status(429, Some(1)),
        Answer::Late(DELIVERY_TIMEOUT + Duration::from_secs(2)),
    ]);
    forward_to(&database, &account.username, &[app.url("/status")]).await;
    let tokens = send(&node.api, &twilio_callbacks(&account.username)[..3]).await;
    all_forwarded(&app, &tokens, "after refusals and a hang").await;
    let log = app.log();
    assert!(log.len() >= tokens.len() + 4, "the refused and hung attempts were made: {}", log.len());
    assert!(failed(&database).await.is_empty(), "nothing failed");
    node.kill_9().await;
}

#[tokio::test]
async fn a_slow_target_never_delays_another() {
    let (database, account, node) = deployment().await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.otherwise(Some(Answer::Late(DELIVERY_TIMEOUT * 3)));
    forward_to(&database, &account.username, &[slow.url("/slow"), fast.url("/fast")]).await;
    let mut callbacks = Vec::new();
    for round in 0..3 {
        callbacks.extend(renumber(&twilio_callbacks(&account.username), round));
    }
    let started = Instant::now();
    let tokens = send(&node.api, &callbacks).await;
    all_forwarded(&fast, &tokens, "the fast target").await;
    // Before the slow target's first attempts could even time out: nothing waited for them.
    assert!(
        started.elapsed() < DELIVERY_TIMEOUT,
        "the fast target got all {} in {:?}",
        tokens.len(),
        started.elapsed()
    );
    let slow_log = slow.log();
    assert!(!slow_log.is_empty(), "the slow target was being tried meanwhile");
    assert!(slow_log.len() < tokens.len(), "with a bounded number in flight: {}", slow_log.len());
    node.kill_9().await;
}

#[tokio::test]
async fn a_target_that_is_down_receives_everything_once_it_is_up() {
    let (database, account, node) = deployment().await;
    let address = free_address().await;
    forward_to(&database, &account.username, &[format!("http://{address}/status")]).await;
    let tokens = send(&node.api, &twilio_callbacks(&account.username)[..10]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(failed(&database).await.is_empty(), "a refused connection is retried, not failed");
    let app = Receiver::on(address).await;
    all_forwarded(&app, &tokens, "after the target came up").await;
    node.kill_9().await;
}

#[tokio::test]
async fn a_gone_target_fails_at_once_is_listed_and_retried_with_the_same_id() {
    let (database, account, node) = deployment().await;
    let hooks = Receiver::start().await;
    hooks.otherwise(Some(Answer::Status(410, None)));
    add_webhook(&database, &account.username, &hooks.url("/gone")).await;
    send(&node.api, &twilio_callbacks(&account.username)[..1]).await;
    let deadline = Instant::now() + PATIENCE;
    let listed = loop {
        let listed = failed(&database).await;
        if !listed.is_empty() {
            break listed;
        }
        assert!(Instant::now() < deadline, "the 410 was listed as failed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listed.len(), 1, "{listed:?}");
    let columns: Vec<&str> = listed[0].split_whitespace().collect();
    let id = columns[0].to_owned();
    assert_eq!(columns[1..5], ["room.started", ROOM_A, "1", &hooks.url("/gone")], "{listed:?}");
    assert!(listed[0].contains("HTTP 410"), "the last error: {listed:?}");
    assert_eq!(hooks.log().len(), 1, "a 410 is not retried");

    hooks.otherwise(None);
    roomlog(&["outbox", "retry", &id, "--database-url", database.url()], &[]).await.ok("outbox retry");
    let log = hooks.wait_until(PATIENCE, "delivered after retry", |log| log.iter().any(|r| r.accepted)).await;
    let delivered: Vec<_> = log.iter().filter(|r| r.accepted).collect();
    assert_eq!(delivered[0].header("webhook-id"), Some(id.as_str()), "the same id after a retry");
    assert!(failed(&database).await.is_empty(), "no longer failed");
    node.kill_9().await;
}

#[tokio::test]
async fn messages_owed_to_a_receiver_survive_kill_9() {
    let (database, account, crashed) = deployment().await;
    let address = free_address().await;
    forward_to(&database, &account.username, &[format!("http://{address}/status")]).await;
    let (_, secret) = add_webhook(&database, &account.username, &format!("http://{address}/hooks")).await;
    let tokens = send(&crashed.api, &twilio_callbacks(&account.username)).await;
    crashed.kill_9().await;

    let app = Receiver::on(address).await;
    let restarted = node(&database, &account, &[]).await;
    all_forwarded(&app, &tokens, "after kill -9 and a restart").await;
    let log = app
        .wait_until(PATIENCE, "room.completed after the restart", |log| {
            !of_type(log, "room.completed", ROOM_A).is_empty()
        })
        .await;
    assert_standard_webhook(of_type(&log, "room.completed", ROOM_A)[0], &secret);
    restarted.kill_9().await;
}

/// A SID of the fixture made unique to `n` (its digits 2..8), so one fixture can make many rooms.
fn renumbered(sid: &str, n: u32) -> String {
    format!("{}{n:06}{}", &sid[..2], &sid[8..])
}

/// The callbacks with every room, participant, track and recording SID renumbered.
fn renumber(callbacks: &[Vec<(String, String)>], n: u32) -> Vec<Vec<(String, String)>> {
    let mut callbacks = callbacks.to_vec();
    for (key, value) in callbacks.iter_mut().flatten() {
        if key.ends_with("Sid") && key != "AccountSid" && value.len() == 34 {
            *value = renumbered(value, n);
        }
    }
    callbacks
}

/// Callbacks of `rooms` rooms, each created, joined, left and ended.
fn short_rooms(account: &str, rooms: usize) -> Vec<Vec<(String, String)>> {
    let template = twilio_callbacks(account);
    let pick = |event: &str| template.iter().find(|p| p.iter().any(|(k, v)| k == "StatusCallbackEvent" && v == event));
    let lifecycle = ["room-created", "participant-connected", "participant-disconnected", "room-ended"];
    let one: Vec<_> = lifecycle.iter().map(|e| pick(e).expect("in the fixture").clone()).collect();
    (0..rooms).flat_map(|room| renumber(&one, room as u32)).collect()
}

#[tokio::test]
async fn two_nodes_share_the_work_and_a_dead_node_s_messages_are_delivered_by_the_other() {
    let database = Database::fresh().await;
    let account = new_account();
    let lease = ["--outbox-lease", "3s"];
    let a = node(&database, &account, &lease).await;
    let b = node(&database, &account, &lease).await;
    let app = Receiver::start().await;
    app.otherwise(Some(Answer::Late(Duration::from_millis(200))));
    forward_to(&database, &account.username, &[app.url("/status")]).await;
    add_webhook(&database, &account.username, &app.url("/hooks")).await;

    let callbacks = short_rooms(&account.username, 50);
    let (half_a, half_b) = callbacks.split_at(callbacks.len() / 2);
    let (tokens_a, tokens_b) = tokio::join!(send(&a.api, half_a), send(&b.api, half_b));
    app.wait_until(PATIENCE, "deliveries under way", |log| log.len() >= 20).await;
    a.kill_9().await;

    let tokens: Vec<String> = tokens_a.into_iter().chain(tokens_b).collect();
    let repeats = all_forwarded(&app, &tokens, "two nodes, one killed").await;
    let rooms: BTreeSet<String> =
        callbacks.iter().flat_map(|p| p.iter().filter(|(k, _)| k == "RoomSid").map(|(_, v)| v.clone())).collect();
    let log = app
        .wait_until(PATIENCE, "room.completed of every room", |log| {
            rooms.iter().all(|room| !of_type(log, "room.completed", room).is_empty())
        })
        .await;
    let completed_repeats: usize = rooms.iter().map(|room| of_type(&log, "room.completed", room).len() - 1).sum();
    println!(
        "two nodes: {} forwards ({repeats} repeats), {} rooms completed ({completed_repeats} repeats)",
        tokens.len(),
        rooms.len()
    );
    assert!(failed(&database).await.is_empty(), "nothing failed");
    b.kill_9().await;
}
