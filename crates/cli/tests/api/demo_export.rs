//! `roomlog demo` and `roomlog export` on the real binary: the demo is realistic, deterministic
//! for a seed and idempotent; the export streams what the API serves, in NDJSON or CSV.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::binary::{all_rooms, create_account, history, roomlog};
use crate::database::Database;
use crate::helpers::Credentials;
use crate::inspect::without_urls;
use crate::process::Node;

const UNTIL: &str = "2025-10-27T18:00:00Z";

/// A database with `rooms` demo rooms of seed 3 up to `UNTIL`, and its account.
async fn demo_database(rooms: u32) -> (Database, Credentials) {
    let store = Database::fresh().await;
    let database = store.url().to_owned();
    let account = create_account(&database).await;
    let rooms = rooms.to_string();
    // Rooms left open at UNTIL stay open: no room timeout (as `process::Node` serves them).
    let settings = ["--settle-window", "0", "--room-timeout", "36500d"];
    let args = [&["demo", "--rooms", &rooms, "--seed", "3", "--until", UNTIL, "--days", "10"][..], &settings].concat();
    let demo = [&args[..], &["--account", &account.username, "--database-url", &database]].concat();
    roomlog(&demo, &[]).await.ok("demo");
    (store, account)
}

fn lines(ndjson: &str) -> Vec<Value> {
    ndjson.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn export_args<'a>(database: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [&["export", "--database-url", database][..], extra].concat()
}

#[tokio::test]
async fn the_demo_is_deterministic_for_a_seed_and_a_second_run_adds_nothing() {
    let (first, account) = demo_database(120).await;
    let (second, _) = demo_database(120).await;
    let export = |database| async move {
        let run = roomlog(&export_args(database, &["--participants"]), &[]).await;
        let mut items = lines(run.ok("export"));
        items.iter_mut().for_each(|item| item["account_sid"] = Value::Null);
        items
    };
    assert_eq!(export(first.url()).await, export(second.url()).await, "same seed, same rooms and participants");

    let args = ["demo", "--rooms", "120", "--seed", "3", "--until", UNTIL, "--days", "10", "--account"];
    let again = roomlog(&[&args[..], &[&account.username, "--database-url", first.url()]].concat(), &[]).await;
    assert!(again.ok("demo again").contains(": 0 events stored"), "{}", again.stdout);
}

#[tokio::test]
async fn demo_rooms_look_like_real_ones() {
    let (store, _) = demo_database(400).await;
    let database = store.url();
    let items = lines(roomlog(&export_args(database, &[]), &[]).await.ok("export"));
    assert_eq!(items.len(), 400);
    let values = |key: &str| items.iter().map(|r| r[key].to_string()).collect::<BTreeSet<_>>();
    let types = values("room_type");
    assert_eq!(types.len(), 4, "every room type: {types:?}");
    let codecs: BTreeSet<String> =
        items.iter().flat_map(|r| r["codecs"].as_array().unwrap().iter().map(|c| c.to_string())).collect();
    assert_eq!(codecs.len(), 4, "every codec: {codecs:?}");
    let some = |case: &str, test: &dyn Fn(&Value) -> bool| {
        let count = items.iter().filter(|r| test(r)).count();
        assert!(count > 0 && count < items.len(), "some rooms, not all: {case} ({count})");
    };
    some("still in progress", &|r| r["room_status"] == "in_progress");
    some("recorded", &|r| r["total_recording_duration_sec"].as_i64().unwrap() > 0);
    some("with a re-join", &|r| r["unique_participants"].as_i64() > r["unique_participant_identities"].as_i64());
    some("longer than half an hour", &|r| r["duration_sec"].as_i64().unwrap_or(0) > 1800);
    let (oldest, newest) = ("2025-10-17T00:00:00Z", UNTIL);
    for room in &items {
        let created = room["create_time"].as_str().unwrap();
        assert!((oldest..=newest).contains(&created), "created within the ten days: {created}");
    }
}

#[tokio::test]
async fn an_ndjson_export_streams_what_the_api_serves() {
    // More rooms than one store page, so the export walks its keyset cursor.
    let (store, account) = demo_database(1200).await;
    let database = store.url();
    let node = Node::start(database, &account, &[]).await;
    let exported = lines(roomlog(&export_args(database, &[]), &[]).await.ok("export"));
    let served: Vec<Value> = all_rooms(&node.api).await.iter().map(without_urls).collect();
    assert_eq!(exported.len(), 1200);
    assert_eq!(exported, served, "every room, in list order, field for field");

    let with_participants = lines(roomlog(&export_args(database, &["--participants"]), &[]).await.ok("export"));
    let expected: Vec<Value> =
        history(&node.api).await.into_iter().flat_map(|(room, people)| std::iter::once(room).chain(people)).collect();
    assert_eq!(with_participants, expected, "each room followed by its participants");
}

#[tokio::test]
async fn export_filters_mean_what_the_api_filters_mean() {
    let (store, account) = demo_database(300).await;
    let database = store.url();
    let node = Node::start(database, &account, &[]).await;
    for (flags, query) in [
        (vec!["--room-type", "go", "--room-type", "peer-to-peer"], "RoomType=go&RoomType=peer_to_peer"),
        (vec!["--codec", "H264"], "Codec=H264"),
        (
            vec!["--created-after", "2025-10-20", "--created-before", "2025-10-22"],
            "CreatedAfter=2025-10-20&CreatedBefore=2025-10-22",
        ),
    ] {
        let exported = lines(roomlog(&export_args(database, &flags), &[]).await.ok(query));
        let served = node.api.get(&format!("/v1/Video/Rooms?{query}&PageSize=1000")).await.ok(query);
        let served: Vec<Value> = served["rooms"].as_array().unwrap().iter().map(without_urls).collect();
        assert!(!served.is_empty(), "{query} matches some rooms");
        assert_eq!(exported, served, "{flags:?} is {query}");
    }
}

/// A CSV cell for a JSON value, as the export writes them.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(list) => list.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn assert_csv_is(csv_text: &str, items: &[&Value], case: &str) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), items.len(), "{case}: one row each");
    for (row, item) in rows.iter().zip(items) {
        assert_eq!(headers.len(), item.as_object().unwrap().len(), "{case}: a column per field");
        for (header, text) in headers.iter().zip(row) {
            assert_eq!(text, cell(&item[header]), "{case}: {header}");
        }
    }
}

#[tokio::test]
async fn a_csv_export_parses_back_to_the_summaries() {
    let (store, _) = demo_database(150).await;
    let database = store.url();
    let everything = lines(roomlog(&export_args(database, &["--participants"]), &[]).await.ok("ndjson"));
    let (participants, rooms): (Vec<&Value>, Vec<&Value>) =
        everything.iter().partition(|item| item.get("participant_sid").is_some());
    let csv = roomlog(&export_args(database, &["--format", "csv"]), &[]).await;
    assert_csv_is(csv.ok("rooms"), &rooms, "rooms");
    let csv = roomlog(&export_args(database, &["--format", "csv", "--participants"]), &[]).await;
    assert_csv_is(csv.ok("participants"), &participants, "participants");
}

#[tokio::test]
async fn an_export_into_a_pipe_closed_early_ends_quietly() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    // More than a pipe holds, so the writer meets the closed pipe.
    let (store, _) = demo_database(200).await;
    // `roomlog export --format csv | head -1`: the reader takes one line and goes away.
    let mut child = crate::binary::command(&export_args(store.url(), &["--format", "csv", "--participants"]), &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roomlog export starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = stdout.next_line().await.expect("readable").expect("a first line");
    assert!(first.starts_with("participant_sid,"), "{first}");
    drop(stdout);
    let output = child.wait_with_output().await.expect("roomlog export ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "a closed pipe is not a failure: {stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
}

#[tokio::test]
async fn logs_written_to_a_file_or_pipe_carry_no_colour_codes() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    // Nothing listens on port 1: the server starts anyway and logs a warning while it waits.
    let mut child = crate::binary::command(
        &["serve", "--listen", "127.0.0.1:0", "--database-url", "postgres://postgres@127.0.0.1:1/none"],
        &[("RUST_LOG", "info")],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("roomlog serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let line = stderr.next_line().await.expect("readable").expect("a log line before exiting");
            if line.contains("does not answer") {
                return line;
            }
        }
    })
    .await
    .expect("the waiting server logs within 30 s");
    assert!(!line.contains('\u{1b}'), "no ANSI escape in {line:?}");
    assert!(line.contains("WARN"), "{line}");
}
