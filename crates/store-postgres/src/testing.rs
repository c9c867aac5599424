//! Throwaway databases for tests: each test creates its own database on a PostgreSQL server and
//! drops it afterwards, so suites run in parallel without sharing state.

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
    /// Panics with a clear message when PostgreSQL is unreachable: a missing database is a
    /// failing test, never a skipped one.
    pub async fn create() -> TestDatabase {
        let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {} ({e}); the PostgreSQL suites need it", admin_url())
        });
        let name = format!("roomlog_test_{}", roomlog_core::RoomSid::generate().as_str()[2..18].to_lowercase());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create the test database");
        admin.close().await;
        let (server, _) =
            admin_url().rsplit_once('/').map(|(s, d)| (s.to_owned(), d.to_owned())).expect("a database URL");
        TestDatabase { url: format!("{server}/{name}"), name }
    }
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
