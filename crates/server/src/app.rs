//! Building and running the server: open the store once (the backend is chosen here and only
//! here), bind the listener, serve until the shutdown future resolves, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;
use roomlog_core::account::Account;
use roomlog_core::{FoldSettings, Store, TokenKey};
use roomlog_store_postgres::PostgresStore;
use roomlog_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{DatabaseArgs, ServeArgs};
use crate::http::auth::CredentialCache;
use crate::http::cache::ResponseCache;
use crate::lifecycle;

/// What every handler shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub tokens: TokenKey,
    pub config: ServeArgs,
    pub fold: FoldSettings,
    pub credentials: CredentialCache,
    pub cache: ResponseCache,
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Opens and migrates the store a database URL names: the one place the backend is chosen.
pub async fn open_store(database: &DatabaseArgs) -> anyhow::Result<Arc<dyn Store>> {
    let url = database.database_url.as_str();
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url, database.database_pool).await.with_context(|| format!("opening {url}"))?;
        store.migrate().await.context("applying SQLite migrations")?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = PostgresStore::open(url, database.database_pool).await.context("configuring PostgreSQL")?;
        store.migrate().await.context("connecting to PostgreSQL and applying its migrations")?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("unsupported database URL {url:?}: expected sqlite://PATH or postgres://…")
    }
}

/// Ensures the account of ROOMLOG_ACCOUNT_SID/ROOMLOG_AUTH_TOKEN, or creates a first account on
/// an empty database and prints its credentials once.
async fn ensure_account(store: &dyn Store, config: &ServeArgs) -> anyhow::Result<()> {
    if let (Some(sid), Some(token)) = (&config.account_sid, &config.auth_token) {
        let sid = sid.parse().context("ROOMLOG_ACCOUNT_SID")?;
        anyhow::ensure!(!token.is_empty(), "ROOMLOG_AUTH_TOKEN is empty");
        let account = Account {
            sid,
            auth_token: token.clone(),
            friendly_name: "from environment".into(),
            verify_callbacks: true,
        };
        store.upsert_account(&account).await?;
        return Ok(());
    }
    if store.accounts().await?.is_empty() {
        let account = Account::generate("first account");
        store.insert_account(&account).await?;
        println!("Created the first account. Keep these; the auth token is not shown again:");
        println!("  ROOMLOG_ACCOUNT_SID={}", account.sid);
        println!("  ROOMLOG_AUTH_TOKEN={}", account.auth_token);
    }
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: ServeArgs) -> anyhow::Result<Application> {
        config.validate().map_err(anyhow::Error::msg)?;
        let store = open_store(&config.database).await?;
        ensure_account(store.as_ref(), &config).await?;
        let tokens = TokenKey::new(store.token_secret().await?);
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let fold = config.fold_settings();
        let cache = ResponseCache::new(config.response_cache_mb.saturating_mul(1 << 20));
        let credentials = CredentialCache::default();
        let state = AppState(Arc::new(Shared { store, tokens, config, fold, credentials, cache }));
        Ok(Application { listener, state })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, finishes in-flight requests
    /// (every acknowledged event is already committed) and stops the lifecycle task.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let background = tokio::spawn(lifecycle::run(
            self.state.store.clone(),
            self.state.fold,
            self.state.config.retention.millis(),
            stop_rx,
        ));
        let app = crate::http::router(self.state.clone());
        axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await?;
        let _ = stop_tx.send(true);
        let _ = background.await;
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = interrupt => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
