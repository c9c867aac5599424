//! Throwaway databases for tests: each test creates its own database on a PostgreSQL server and
//! drops it afterwards, so suites run in parallel without sharing state.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// The server tests use: `ROOMLOG_TEST_POSTGRES_URL`, default the machine's local PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("ROOMLOG_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database created for one test and dropped (with its connections) when this is dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A fresh database. Without a reachable server the whole test binary stops at once with
    /// one line saying what to start or set: a missing database is a failing test, never a
    /// skipped one, and never a panic deep in a helper.
    pub async fn create() -> TestDatabase {
        require_server();
        let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap_or_else(|e| {
            stop(&format!(
                "PostgreSQL at {} answers but refuses the tests ({e}): create that database \
                 (createdb test) or set ROOMLOG_TEST_POSTGRES_URL",
                admin_url()
            ))
        });
        let name = format!("roomlog_test_{}", roomlog_core::RoomSid::generate().as_str()[2..18].to_lowercase());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create the test database");
        admin.close().await;
        let (server, _) =
            admin_url().rsplit_once('/').map(|(s, d)| (s.to_owned(), d.to_owned())).expect("a database URL");
        TestDatabase { url: format!("{server}/{name}"), name }
    }
}

/// Checks once per test binary, within a second, that something listens where the URL points.
fn require_server() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let url = admin_url();
        let authority = url.split("://").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let host_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
        let reachable = host_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
            .is_some_and(|address| TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok());
        if !reachable {
            stop(&format!(
                "PostgreSQL is not reachable at {url}: start it, or set ROOMLOG_TEST_POSTGRES_URL to a \
                 server where the tests may create databases"
            ));
        }
    });
}

/// Written to the process's stderr itself (the test harness captures `eprintln!`, and its
/// capture dies with the process).
fn stop(message: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "FATAL: {message}");
    std::process::exit(2)
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A thread with its own runtime: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url()).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.ok()
            })
        })
        .join();
    }
}
