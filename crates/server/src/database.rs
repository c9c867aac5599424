//! The one place the storage backend is chosen, from the database URL's scheme.

use std::sync::Arc;

use anyhow::Context;
use roomlog_core::{Store, StoreError};
use roomlog_store_postgres::PostgresStore;
use roomlog_store_sqlite::SqliteStore;

use crate::config::DatabaseConfig;

/// A backend opened but not yet migrated: PostgreSQL is opened lazily, so this succeeds while
/// the database is still starting; `migrate` is what needs it.
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Database {
    pub async fn open(config: &DatabaseConfig) -> anyhow::Result<Database> {
        let url = config.url.as_str();
        if url.starts_with("sqlite:") {
            let store = SqliteStore::open(url, config.pool).await.with_context(|| format!("opening {url}"))?;
            Ok(Database::Sqlite(store))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let store = PostgresStore::open(url, config.pool).await.context("configuring PostgreSQL")?;
            Ok(Database::Postgres(store))
        } else {
            anyhow::bail!("unsupported database URL {url:?}: expected sqlite://PATH or postgres://…")
        }
    }

    /// Applies the backend's migrations; `StoreError::Unavailable` while the database does not
    /// answer yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(store) => store.migrate().await,
            Database::Postgres(store) => store.migrate().await,
        }
    }

    /// The store to serve from (it shares the connections of this `Database`).
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Database::Sqlite(store) => Arc::new(store.clone()),
            Database::Postgres(store) => Arc::new(store.clone()),
        }
    }
}

/// Opens and migrates the store a database URL names, for the commands that use the database
/// directly (accounts, import, export, demo, rebuild, migrate).
pub async fn open_store(config: &DatabaseConfig) -> anyhow::Result<Arc<dyn Store>> {
    let database = Database::open(config).await?;
    let what = match database {
        Database::Sqlite(_) => "applying SQLite migrations",
        Database::Postgres(_) => "connecting to PostgreSQL and applying its migrations",
    };
    database.migrate().await.context(what)?;
    Ok(database.store())
}
