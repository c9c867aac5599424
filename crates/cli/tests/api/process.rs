//! The real `roomlog` binary as a child process: for kill -9 and multi-node tests.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::helpers::{Api, Credentials};

/// The `roomlog` binary serving one database, and a client for it.
pub struct Node {
    child: Child,
    pub api: Api,
    // Kept open so the server never writes to a closed pipe.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Node {
    /// Starts `roomlog serve` on a free port and waits (with a deadline) for the line that
    /// says where it listens; the listener is bound before that line is printed.
    pub async fn start(database_url: &str, account: &Credentials, extra_args: &[&str]) -> Node {
        let mut command = Command::new(env!("CARGO_BIN_EXE_roomlog"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", database_url])
            .args(["--default-window", "0", "--settle-window", "0", "--room-timeout", "36500d"])
            .args(["--account-sid", &account.username, "--auth-token", &account.secret])
            .args(extra_args)
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
        Node { child, api: Api::new(base_url, account.clone()), _stdout: stdout }
    }

    /// SIGKILL: no shutdown hook, no flush, no drain.
    pub async fn kill_9(mut self) {
        self.child.kill().await.expect("the process is killed");
    }
}
