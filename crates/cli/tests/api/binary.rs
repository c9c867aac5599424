//! The real `roomlog` binary for the command tests: run a command to completion, and read
//! everything an API holds to compare two servers (`process::Node` serves a database).

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::helpers::{Api, Credentials};
use crate::inspect::without_urls;

/// `roomlog …` with no `ROOMLOG_*` or `TWILIO_*` variable of the machine running the tests, so
/// only what a test passes reaches the command.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roomlog"));
    command.args(args).env("RUST_LOG", "warn").stdin(Stdio::null()).kill_on_drop(true);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("ROOMLOG_") || n.starts_with("TWILIO_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

/// A finished command.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Insists the command succeeded and returns its standard output.
    pub fn ok(&self, case: &str) -> &str {
        assert!(self.success, "{case}: roomlog failed: {}\n{}", self.stderr, self.stdout);
        &self.stdout
    }
}

pub async fn roomlog(args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = tokio::time::timeout(Duration::from_secs(300), command(args, env).output())
        .await
        .unwrap_or_else(|_| panic!("roomlog {args:?} finished within 300 s"))
        .expect("the roomlog binary runs");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 errors"),
    }
}

/// `roomlog accounts create` on a database; returns the new account's credentials.
pub async fn create_account(database_url: &str) -> Credentials {
    let run = roomlog(&["accounts", "create", "--database-url", database_url], &[]).await;
    let field = |name: &str| {
        let line = run.ok("accounts create").lines().find_map(|l| l.strip_prefix(name)).expect("a printed field");
        line.trim().to_owned()
    };
    Credentials::new(field("sid:"), field("auth_token:"))
}

/// Every item of a list, following `next_page_url` from `first` (a path or absolute URL).
pub async fn list_all(api: &Api, first: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(url) = next.take() {
        let page = api.get(&url).await.ok(&url);
        items.extend(page[key].as_array().expect("a list").iter().cloned());
        next = page["meta"]["next_page_url"].as_str().map(str::to_owned);
    }
    items
}

/// Every room an account has, newest first, without the default window.
pub async fn all_rooms(api: &Api) -> Vec<Value> {
    list_all(api, "/v1/Video/Rooms?CreatedAfter=1970-01-01T00:00:00Z&PageSize=1000", "rooms").await
}

/// Every room with its participants, without the per-server parts (`url`, `links`): what two
/// servers holding the same history must answer alike.
pub async fn history(api: &Api) -> Vec<(Value, Vec<Value>)> {
    let mut history = Vec::new();
    for room in all_rooms(api).await {
        let sid = room["room_sid"].as_str().expect("a room SID");
        let participants =
            list_all(api, &format!("/v1/Video/Rooms/{sid}/Participants?PageSize=1000"), "participants").await;
        history.push((without_urls(&room), participants.iter().map(without_urls).collect()));
    }
    history
}
