//! Which backend a test runs on: a fresh SQLite file by default, a fresh PostgreSQL database
//! with `ROOMLOG_TEST_BACKEND=postgres` (scripts/test runs the suite both ways: parity is a test).

use roomlog_store_postgres::testing::TestDatabase;

pub enum Database {
    Sqlite { _directory: tempfile::TempDir, url: String },
    Postgres(TestDatabase),
}

pub fn backend() -> String {
    std::env::var("ROOMLOG_TEST_BACKEND").unwrap_or_else(|_| "sqlite".into())
}

impl Database {
    pub async fn fresh() -> Database {
        match backend().as_str() {
            "sqlite" => {
                let directory = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", directory.path().join("roomlog.db").display());
                Database::Sqlite { _directory: directory, url }
            }
            "postgres" => Database::Postgres(TestDatabase::create().await),
            other => panic!("ROOMLOG_TEST_BACKEND={other:?}: expected sqlite or postgres"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } => url,
            Database::Postgres(database) => &database.url,
        }
    }
}
