//! `roomlog import` against a second roomlog process as the upstream: every room and
//! participant arrives field for field (read back through the importer's own API), a second run
//! changes nothing, a run killed half-way resumes without gaps or duplicates, and an upstream
//! that answers 429 and 5xx is waited for.

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

use crate::binary::{command, create_account, history, roomlog, Run};
use crate::database::Database;
use crate::helpers::Credentials;
use crate::process::Node;

/// An upstream roomlog with demo history: 30 days of rooms, a few still in progress.
struct Upstream {
    node: Node,
    credentials: Credentials,
    /// Where importers reach it: the node itself, or a proxy in front of it.
    url: String,
    database: String,
    _database: Database,
}

async fn upstream(rooms: u32, proxy: Option<&TcpListener>) -> Upstream {
    let store = Database::fresh().await;
    let database = store.url().to_owned();
    let credentials = create_account(&database).await;
    let rooms = rooms.to_string();
    let args = ["demo", "--rooms", &rooms, "--days", "30", "--seed", "7", "--settle-window", "0"];
    let demo = [&args[..], &["--account", &credentials.username, "--database-url", &database]].concat();
    roomlog(&demo, &[]).await.ok("demo data for the upstream");
    // Behind a proxy, the upstream's `next_page_url`s must lead through the proxy too.
    let proxy_url = proxy.map(|p| format!("http://{}", p.local_addr().unwrap()));
    let public = proxy_url.as_deref().map(|url| vec!["--public-url", url]).unwrap_or_default();
    let node = Node::start(&database, &credentials, &public).await;
    let url = proxy_url.unwrap_or_else(|| node.api.base_url.clone());
    Upstream { node, credentials, url, database, _database: store }
}

/// The import command line, into `database`, with small pages so a run has many checkpoints.
fn import_args<'a>(upstream: &'a Upstream, database: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", "--from", &upstream.url, "--database-url", database];
    args.extend(["--account-sid", &upstream.credentials.username, "--auth-token", &upstream.credentials.secret]);
    args.extend(["--page-size", "40", "--backoff", "10ms"]);
    args.extend(extra);
    if !extra.contains(&"--concurrency") {
        args.extend(["--concurrency", "4"]);
    }
    args
}

/// The counts of the summary line: `imported: R rooms, P participants, S skipped, E errors (…)`.
fn counts(run: &Run) -> [u64; 4] {
    let line = run.stdout.lines().find(|l| l.starts_with("imported: ")).unwrap_or_else(|| panic!("{run:?}"));
    let numbers: Vec<u64> =
        line.split([' ', ',', ':', '(']).filter_map(|word| word.parse().ok()).take(4).collect::<Vec<_>>();
    numbers.try_into().unwrap_or_else(|_| panic!("four counts in {line:?}"))
}

/// What the importer's own API serves equals what the upstream serves.
async fn assert_same_history(upstream: &Upstream, database: &str, account: &Credentials, case: &str) {
    let importer = Node::start(database, account, &[]).await;
    let expected = history(&upstream.node.api).await;
    let imported = history(&importer.api).await;
    assert_eq!(imported.len(), expected.len(), "{case}: every room, once");
    for (got, want) in imported.iter().zip(&expected) {
        assert_eq!(got, want, "{case}: room {} field for field", want.0["room_sid"]);
    }
}

#[tokio::test]
async fn an_import_copies_every_room_and_participant_field_for_field_and_again_changes_nothing() {
    let upstream = upstream(150, None).await;
    let archive = Database::fresh().await;
    let database = archive.url();
    let run = roomlog(&import_args(&upstream, database, &[]), &[]).await;
    let [rooms, participants, skipped, errors] = counts(&run);
    let expected = history(&upstream.node.api).await;
    assert_eq!(rooms, expected.len() as u64, "{}", run.stdout);
    assert_eq!(participants, expected.iter().map(|(_, p)| p.len() as u64).sum::<u64>());
    assert_eq!((skipped, errors), (0, 0));
    assert!(run.stderr.contains("created the local account"), "{}", run.stderr);
    assert_same_history(&upstream, database, &upstream.credentials, "first run").await;

    // Only the rooms from the first one still in progress onwards are fetched again.
    let again = roomlog(&import_args(&upstream, database, &[]), &[]).await;
    assert!(again.stderr.contains("resuming"), "{}", again.stderr);
    assert!(counts(&again)[0] < rooms, "{}", again.stdout);
    roomlog(&["rebuild", "--database-url", database], &[]).await.ok("rebuild");
    assert_same_history(&upstream, database, &upstream.credentials, "second run and rebuild").await;
}

#[tokio::test]
async fn an_api_key_imports_into_the_chosen_local_account() {
    let mut upstream = upstream(30, None).await;
    let key = roomlog(
        &["keys", "create", "--account", &upstream.credentials.username, "--database-url", &upstream.database],
        &[],
    )
    .await;
    let field =
        |name: &str| key.ok("keys create").lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().to_owned();
    let account = std::mem::replace(&mut upstream.credentials, Credentials::new(field("sid:"), field("secret:")));
    let archive = Database::fresh().await;
    let database = archive.url();
    let local = create_account(database).await;
    create_account(database).await;
    let run = roomlog(&import_args(&upstream, database, &["--into-account", &local.username]), &[]).await;
    assert_eq!(counts(&run)[3], 0, "{}", run.stdout);

    let importer = Node::start(database, &local, &[]).await;
    let upstream_api = crate::helpers::Api::new(upstream.node.api.base_url.clone(), account);
    let mut expected = history(&upstream_api).await;
    for (room, participants) in expected.iter_mut() {
        room["account_sid"] = local.username.clone().into();
        participants.iter_mut().for_each(|p| p["account_sid"] = local.username.clone().into());
    }
    assert_eq!(history(&importer.api).await, expected, "the same history, under the local account");
}

/// A proxy in front of the upstream that slows every answer and fails some of them: the first
/// `throttled` faults are 429 with `Retry-After: 1`, the later ones 500 or 503.
#[derive(Clone, Copy)]
struct Faults {
    every: u64,
    throttled: u64,
    delay: Duration,
}

struct ProxyState {
    upstream: String,
    faults: Faults,
    client: reqwest::Client,
    requests: AtomicU64,
    /// Each answer: path and query, when, status.
    log: Mutex<Vec<(String, Instant, u16)>>,
}

async fn proxy(listener: TcpListener, upstream: String, faults: Faults) -> Arc<ProxyState> {
    let state = Arc::new(ProxyState {
        upstream,
        faults,
        client: reqwest::Client::new(),
        requests: AtomicU64::new(0),
        log: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new().fallback(forward).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    state
}

async fn forward(State(proxy): State<Arc<ProxyState>>, request: Request) -> Response {
    let n = proxy.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let target = request.uri().path_and_query().map_or("/".to_owned(), |pq| pq.to_string());
    tokio::time::sleep(proxy.faults.delay).await;
    let Faults { every, throttled, .. } = proxy.faults;
    let response = if every > 0 && n % every == 0 {
        let fault = n / every;
        if fault <= throttled {
            let body = r#"{"code": 20429, "message": "Too many requests", "more_info": "", "status": 429}"#;
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], body).into_response()
        } else if fault % 2 == 0 {
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response()
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "upstream trouble").into_response()
        }
    } else {
        let mut upstream = proxy.client.get(format!("{}{target}", proxy.upstream));
        if let Some(auth) = request.headers().get(header::AUTHORIZATION) {
            upstream = upstream.header(header::AUTHORIZATION, auth);
        }
        let answer = upstream.send().await.expect("the upstream answers");
        let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
        let body = answer.bytes().await.expect("a body");
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    proxy.log.lock().unwrap().push((target, Instant::now(), response.status().as_u16()));
    response
}

#[tokio::test]
async fn an_upstream_answering_429_and_5xx_is_waited_for_and_the_import_completes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = upstream(60, Some(&listener)).await;
    let faults = Faults { every: 6, throttled: 2, delay: Duration::ZERO };
    let proxy = proxy(listener, upstream.node.api.base_url.clone(), faults).await;
    let archive = Database::fresh().await;
    let database = archive.url();
    let run = roomlog(&import_args(&upstream, database, &[]), &[]).await;
    assert!(run.success, "{run:?}");

    let log = proxy.log.lock().unwrap().clone();
    let statuses = |code: u16| log.iter().filter(|(_, _, s)| *s == code).count();
    assert_eq!(statuses(429), 2, "two 429 answers");
    assert!(statuses(500) + statuses(503) >= 2, "some 5xx answers: {}", log.len());
    let faults = statuses(429) + statuses(500) + statuses(503);
    assert!(run.stdout.contains(&format!("{faults} retried requests")), "{}", run.stdout);
    for (i, (target, at, status)) in log.iter().enumerate() {
        if *status == 429 {
            let retry = log[i + 1..].iter().find(|(t, _, _)| t == target).expect("the request was retried");
            let waited = retry.1.duration_since(*at);
            assert!(waited >= Duration::from_millis(950), "Retry-After: 1 was honoured ({waited:?})");
        }
    }
    assert_same_history(&upstream, database, &upstream.credentials, "through faults").await;
}

#[tokio::test]
async fn an_import_killed_half_way_resumes_without_gaps_or_duplicates() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = upstream(200, Some(&listener)).await;
    let faults = Faults { every: 0, throttled: 0, delay: Duration::from_millis(15) };
    proxy(listener, upstream.node.api.base_url.clone(), faults).await;
    let archive = Database::fresh().await;
    let database = archive.url();
    let args = import_args(&upstream, database, &["--concurrency", "2"]);

    let mut first = command(&args, &[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut progress = BufReader::new(first.stderr.take().unwrap()).lines();
    let imported_before_kill = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = progress.next_line().await.unwrap() {
            // "import: N rooms, …": the first checkpoint with rooms is on disk.
            if let Some(rest) = line.strip_prefix("import: ") {
                return rest.split(' ').next().unwrap().parse::<u64>().unwrap();
            }
        }
        panic!("the import ended before reporting progress")
    })
    .await
    .expect("progress within 120 s");
    first.kill().await.expect("kill -9");
    assert!(imported_before_kill > 0);

    let second = roomlog(&args, &[]).await;
    assert!(second.stderr.contains("resuming"), "{}", second.stderr);
    let total = history(&upstream.node.api).await.len() as u64;
    let [rooms, ..] = counts(&second);
    assert!(rooms < total, "the resumed run skips what was done ({rooms} of {total})");
    assert!(rooms + imported_before_kill >= total, "nothing is left out");
    assert_same_history(&upstream, database, &upstream.credentials, "killed and resumed").await;
}

/// A TCP relay to the upstream that hangs up on the first `drops` connections at once.
async fn hang_up_first(listener: TcpListener, upstream: std::net::SocketAddr, drops: usize) {
    tokio::spawn(async move {
        for n in 1.. {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            if n <= drops {
                drop(inbound);
                continue;
            }
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(upstream).await.expect("the upstream listens");
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
}

#[tokio::test]
async fn a_lost_connection_is_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = upstream(20, Some(&listener)).await;
    let address = upstream.node.api.base_url.trim_start_matches("http://").parse().unwrap();
    hang_up_first(listener, address, 2).await;
    let archive = Database::fresh().await;
    let database = archive.url();
    let run = roomlog(&import_args(&upstream, database, &["--concurrency", "1"]), &[]).await;
    assert!(run.stdout.contains("(2 retried requests"), "{run:?}");
    assert_same_history(&upstream, database, &upstream.credentials, "after hang-ups").await;
}
