//! Durability (BEHAVIOUR §4.3): every acknowledged event survives `kill -9` of the real binary.

use std::process::Stdio;
use std::time::Duration;

use roomlog_core::account::Account;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::fixtures::{at, room, standup};
use crate::helpers::{Api, Credentials};

/// The `roomlog` binary serving one database, and a client for it.
struct Server {
    child: Child,
    api: Api,
    // Kept open so the server never writes to a closed pipe.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Starts `roomlog serve` on a free port and waits (with a deadline) for the line that
    /// says where it listens; the listener is bound before that line is printed.
    async fn start(database_url: &str, account: &Credentials) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_roomlog"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", database_url])
            .args(["--default-window", "0", "--settle-window", "0", "--room-timeout", "36500d"])
            .args(["--account-sid", &account.username, "--auth-token", &account.secret])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("ROOMLOG_")) {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("the roomlog binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let listening = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = stdout.next_line().await.expect("readable stdout") {
                if let Some(address) = line.strip_prefix("roomlog listening on ") {
                    return Some(address.trim().to_owned());
                }
            }
            None
        })
        .await
        .expect("roomlog printed its address within 60 s");
        let Some(base_url) = listening else {
            let mut stderr = String::new();
            let _ = child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).await;
            panic!("roomlog exited before listening: {stderr}");
        };
        Server { child, api: Api::new(base_url, account.clone()), _stdout: stdout }
    }

    /// SIGKILL: no shutdown hook, no flush, no drain.
    async fn kill_9(mut self) {
        self.child.kill().await.expect("the process is killed");
    }
}

#[tokio::test]
async fn acknowledged_events_survive_a_kill_9() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let database_url = format!("sqlite://{}", directory.path().join("roomlog.db").display());
    let generated = Account::generate("durability");
    let account = Credentials::new(generated.sid.to_string(), generated.auth_token);
    let s = standup();
    let singles: Vec<_> = (0..20).map(|i| room(&format!("single {i}"))).collect();

    let server = Server::start(&database_url, &account).await;
    for chunk in s.events.chunks(5) {
        server.api.ingest(chunk.to_vec()).await;
    }
    for (i, single) in singles.iter().enumerate() {
        let reply = server.api.post_events(&single.created(&at(1, i as u32))).await;
        assert_eq!(reply.status.as_u16(), 202, "event {i}: {}", reply.body);
    }
    server.kill_9().await;

    let server = Server::start(&database_url, &account).await;
    let listed = server.api.get("/v1/Video/Rooms?PageSize=1000").await.ok("listing after the restart");
    let mut found: Vec<&str> =
        listed["rooms"].as_array().expect("rooms").iter().filter_map(|r| r["room_sid"].as_str()).collect();
    let mut expected: Vec<&str> = singles.iter().map(|r| r.sid.as_str()).chain([s.room.sid.as_str()]).collect();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "every acknowledged room is there");
    let summary = server.api.room(&s.room.sid).await;
    let derived: Vec<&Value> =
        ["unique_participants", "concurrent_participants", "total_participant_duration_sec", "end_time"]
            .iter()
            .map(|field| &summary[*field])
            .collect();
    assert_eq!(derived, [&json!(4), &json!(2), &json!(3025), &json!("2025-10-27T18:30:00Z")]);
    let replay = server.api.ingest(s.events.clone()).await;
    assert_eq!(replay, json!({"accepted": 0, "duplicates": s.events.len()}), "the raw events were kept too");
    server.kill_9().await;
}
