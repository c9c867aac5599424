//! `serve --import-from` against a second roomlog process as the upstream: a room that appears
//! upstream between two runs arrives with the next one, a failing upstream is reported and
//! retried without stopping the server, and two nodes on one database never import the same
//! span twice (docs/operations.md, "Continuous import").

use std::time::{Duration, Instant};

use roomlog_core::JobRun;
use serde_json::Value;

use crate::binary::{all_rooms, create_account};
use crate::database::Database;
use crate::fixtures::{ago, at, participant, room};
use crate::helpers::Credentials;
use crate::process::Node;

/// An upstream holding `count` ended rooms (settled at once: every one is final).
async fn upstream(count: u32) -> (Node, Credentials, Database) {
    let database = Database::fresh().await;
    let credentials = create_account(database.url()).await;
    let node = Node::start(database.url(), &credentials, &[]).await;
    for r in 0..count {
        let minute = r % 50;
        add_room(&node, &format!("upstream-{r}"), [at(minute, 0), at(minute, 1), at(minute, 30), at(minute, 40)]).await;
    }
    (node, credentials, database)
}

/// A room that has just ended: inside the late-arrivals window, where every run looks again.
async fn add_recent_room(node: &Node, name: &str) {
    add_room(node, name, [ago(60), ago(59), ago(40), ago(30)]).await;
}

async fn add_room(node: &Node, name: &str, [created, joined, left, ended]: [String; 4]) {
    let room = room(name);
    let who = participant("someone");
    node.api
        .ingest([
            room.created(&created),
            room.connected(&who, &joined),
            room.disconnected(&who, &left),
            room.ended(&ended),
        ])
        .await;
}

fn import_flags<'a>(upstream: &'a Node, credentials: &'a Credentials, every: &'a str) -> Vec<&'a str> {
    vec![
        "--import-from",
        &upstream.api.base_url,
        "--import-account-sid",
        &credentials.username,
        "--import-auth-token",
        &credentials.secret,
        "--import-every",
        every,
    ]
}

/// Polls `check` every 100 ms until it returns `Some`, for at most `within`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz(node: &Node) -> Value {
    let reply = reqwest::get(format!("{}/readyz", node.api.base_url)).await.expect("readyz answers");
    assert_eq!(reply.status(), 200, "the server stays ready");
    reply.json().await.expect("JSON")
}

async fn room_count(node: &Node) -> usize {
    all_rooms(&node.api).await.len()
}

#[tokio::test]
async fn a_room_that_appears_upstream_between_two_runs_arrives_with_the_next_run() {
    let (source, upstream_account, _upstream_db) = upstream(12).await;
    let archive_db = Database::fresh().await;
    let archive = Credentials::new(roomlog_core::AccountSid::generate().to_string(), "archive-token".to_owned());
    let node = Node::start(archive_db.url(), &archive, &import_flags(&source, &upstream_account, "1s")).await;
    eventually(Duration::from_secs(30), || async { (room_count(&node).await == 12).then_some(()) }).await;
    let detail = readyz(&node).await;
    let import = &detail["import"];
    assert_eq!(import["ok"], true, "{detail}");
    assert!(import["message"].as_str().unwrap().starts_with("imported"), "{detail}");
    assert!(import["finished"].as_str().is_some_and(|t| t.ends_with('Z')), "{detail}");

    add_recent_room(&source, "appeared-later").await;
    eventually(Duration::from_secs(30), || async { (room_count(&node).await == 13).then_some(()) }).await;
    let names: Vec<String> =
        all_rooms(&node.api).await.iter().map(|r| r["room_name"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"appeared-later".to_owned()), "{names:?}");
}

#[tokio::test]
async fn a_failing_upstream_is_reported_and_retried_and_the_server_keeps_serving() {
    let (source, upstream_account, _upstream_db) = upstream(3).await;
    let archive_db = Database::fresh().await;
    let archive = Credentials::new(roomlog_core::AccountSid::generate().to_string(), "archive-token".to_owned());
    let wrong = Credentials::new(upstream_account.username.clone(), "not-the-token".to_owned());
    let node = Node::start(archive_db.url(), &archive, &import_flags(&source, &wrong, "1s")).await;
    let failed = eventually(Duration::from_secs(30), || async {
        let detail = readyz(&node).await;
        (detail["import"]["ok"] == false).then_some(detail)
    })
    .await;
    let message = failed["import"]["message"].as_str().unwrap();
    assert!(
        message.contains("20003") && message.contains("Authenticate"),
        "the upstream's refusal is named: {message}"
    );
    assert_eq!(room_count(&node).await, 0);
    // A second failed run is recorded too: the schedule retries.
    let first = failed["import"]["started"].clone();
    eventually(Duration::from_secs(30), || async { (readyz(&node).await["import"]["started"] != first).then_some(()) })
        .await;
    // An unreachable upstream is a failure too, never a crash.
    let gone_db = Database::fresh().await;
    let gone = Node::start(
        gone_db.url(),
        &archive,
        &[
            "--import-from",
            "http://127.0.0.1:9",
            "--import-account-sid",
            &upstream_account.username,
            "--import-auth-token",
            "x",
            "--import-every",
            "1s",
        ],
    )
    .await;
    let unreachable = eventually(Duration::from_secs(60), || async {
        let detail = readyz(&gone).await;
        (detail["import"]["ok"] == false).then_some(detail)
    })
    .await;
    assert!(unreachable["import"]["message"].as_str().unwrap().len() > 10, "{unreachable}");
}

#[tokio::test]
async fn two_nodes_on_one_database_never_import_the_same_span_twice() {
    let (source, upstream_account, _upstream_db) = upstream(20).await;
    let shared = Database::fresh().await;
    let archive = Credentials::new(roomlog_core::AccountSid::generate().to_string(), "archive-token".to_owned());
    let flags = import_flags(&source, &upstream_account, "1s");
    let first = Node::start(shared.url(), &archive, &flags).await;
    let second = Node::start(shared.url(), &archive, &flags).await;
    eventually(Duration::from_secs(30), || async { (room_count(&first).await == 20).then_some(()) }).await;
    add_recent_room(&source, "appeared-later").await;
    eventually(Duration::from_secs(30), || async { (room_count(&second).await == 21).then_some(()) }).await;
    // Let a few more runs happen, from either node.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let config = roomlog_server::DatabaseConfig { url: shared.url().to_owned(), pool: 1 };
    let store = roomlog_server::database::open_store(&config).await.expect("the shared database opens");
    let mut runs: Vec<JobRun> = store.job_runs(roomlog_core::store::IMPORT_JOB, 1000).await.unwrap();
    runs.sort_by_key(|run| run.started);
    assert!(runs.len() >= 3, "several runs: {runs:#?}");
    for pair in runs.windows(2) {
        assert!(pair[1].started >= pair[0].finished, "runs never overlap: {pair:#?}");
    }
    assert!(runs.iter().all(|run| run.ok), "{runs:#?}");
    // The 20 final rooms are checkpointed by the run that imports them and never fetched
    // again; only the room inside the late-arrivals window is looked at by each later run.
    assert_eq!(runs.iter().filter(|run| run.rooms >= 20).count(), 1, "{runs:#?}");
    assert!(runs.iter().all(|run| run.rooms <= 21), "{runs:#?}");
    assert!(runs.iter().skip_while(|run| run.rooms < 20).skip(1).all(|run| run.rooms <= 1), "{runs:#?}");
}

#[tokio::test]
async fn the_rooms_page_shows_the_last_import_to_the_account_it_imports_into() {
    let app = crate::helpers::spawn_app().await;
    let run = |account: &str, ok: bool, message: &str| JobRun {
        name: roomlog_core::store::IMPORT_JOB.into(),
        holder: "node-1".into(),
        account_sid: Some(account.parse().unwrap()),
        started: roomlog_core::Millis::now(),
        finished: roomlog_core::Millis::now(),
        ok,
        rooms: 3,
        message: message.into(),
    };
    let mut browser = crate::dashboard::Browser::new(&app);
    browser.sign_in().await;
    assert!(!browser.get("/").await.body.contains("Last import"), "no import, no line");
    app.state
        .store
        .record_job_run(&run(&app.account_sid, false, "stopped (error 20003: Authenticate) after: 0 rooms"))
        .await
        .unwrap();
    let page = browser.get("/").await.body;
    assert!(page.contains("notice import failed") && page.contains("error 20003: Authenticate"), "{page}");
    let other = app.create_account().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.state.store.record_job_run(&run(&other.username, true, "imported: 3 rooms")).await.unwrap();
    assert!(!browser.get("/").await.body.contains("Last import"), "another account's import is not shown");
}
