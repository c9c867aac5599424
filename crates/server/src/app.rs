//! Building and running the server: open the database (the backend is chosen in `database`),
//! bind the listener, migrate (or keep trying in the background while the database is not up
//! yet), serve until the shutdown future resolves, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use roomlog_core::account::{Account, LiveKitKey};
use roomlog_core::{Store, StoreError, TokenKey};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{SeedAccount, SeedLiveKitKey, ServerConfig};
use crate::database::Database;
use crate::lifecycle;
use crate::router::router;
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The database still to migrate, when it did not answer at build time.
    pending: Option<Database>,
}

impl Application {
    /// Binds the listener and prepares the database. A database that does not answer yet is
    /// not an error: the server starts, `/readyz` answers 503, and it becomes ready once the
    /// migrations have run (`run_until` keeps trying).
    pub async fn build(config: ServerConfig) -> anyhow::Result<Application> {
        config.validate().map_err(anyhow::Error::msg)?;
        let database = Database::open(&config.database).await?;
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let state = AppState::new(database.store(), config);
        let pending = match database.migrate().await {
            Ok(()) => {
                prepare(&state).await?;
                None
            }
            Err(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "the database does not answer yet; serving 503 until it does");
                Some(database)
            }
            Err(error) => return Err(anyhow::Error::new(error).context("applying the database migrations")),
        };
        Ok(Application { listener, state, pending })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, finishes in-flight requests
    /// (every acknowledged event is already durable) and stops the background task.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let background = tokio::spawn(background(self.state.clone(), self.pending, stop_rx));
        axum::serve(self.listener, router(self.state.clone())).with_graceful_shutdown(shutdown).await?;
        let _ = stop_tx.send(true);
        let _ = background.await;
        Ok(())
    }
}

/// Once migrated: the seeded or first account, then the page-token key; the server is ready.
async fn prepare(state: &AppState) -> anyhow::Result<()> {
    ensure_account(state.store.as_ref(), state.config.seed_account.as_ref()).await?;
    if let Some(key) = &state.config.seed_livekit_key {
        ensure_livekit_key(state.store.as_ref(), state.config.seed_account.as_ref(), key).await?;
    }
    state.set_ready(TokenKey::new(state.store.token_secret().await?));
    Ok(())
}

/// Finishes the start-up if the database was not up at build time, then runs the lifecycle.
async fn background(state: AppState, pending: Option<Database>, mut stop: watch::Receiver<bool>) {
    if let Some(database) = pending {
        let mut pause = Duration::from_millis(250);
        loop {
            let outcome = match database.migrate().await {
                Ok(()) => prepare(&state).await,
                Err(error) => Err(error.into()),
            };
            match outcome {
                Ok(()) => {
                    tracing::info!("the database answers: ready");
                    break;
                }
                Err(error) => tracing::warn!(error = %format!("{error:#}"), "database not ready; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => return,
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
    lifecycle::run(state.store.clone(), state.fold, state.config.retention_ms, stop).await;
}

/// Ensures the seeded account, or creates a first account on an empty database and prints its
/// credentials once, as lines a shell can paste.
async fn ensure_account(store: &dyn Store, seed: Option<&SeedAccount>) -> anyhow::Result<()> {
    if let Some(seed) = seed {
        let sid = seed.sid.parse().map_err(anyhow::Error::msg).context("ROOMLOG_ACCOUNT_SID")?;
        anyhow::ensure!(!seed.auth_token.is_empty(), "ROOMLOG_AUTH_TOKEN is empty");
        let account = Account {
            sid,
            auth_token: seed.auth_token.clone(),
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
        println!("{}", account.shell_exports());
    }
    Ok(())
}

/// Ensures the LiveKit key of the environment belongs to the seeded account, or to the only
/// account (docs/behaviour.md §4.4); with several accounts and no seed, which one is ambiguous.
async fn ensure_livekit_key(store: &dyn Store, seed: Option<&SeedAccount>, key: &SeedLiveKitKey) -> anyhow::Result<()> {
    anyhow::ensure!(
        !key.api_key.is_empty() && !key.api_secret.is_empty(),
        "ROOMLOG_LIVEKIT_API_KEY and ROOMLOG_LIVEKIT_API_SECRET must not be empty"
    );
    let account_sid = match seed {
        Some(seed) => seed.sid.parse().map_err(anyhow::Error::msg).context("ROOMLOG_ACCOUNT_SID")?,
        None => match store.accounts().await?.as_slice() {
            [only] => only.sid.clone(),
            _ => anyhow::bail!(
                "ROOMLOG_LIVEKIT_API_KEY: this database has several accounts; set ROOMLOG_ACCOUNT_SID and \
                 ROOMLOG_AUTH_TOKEN to say which one the key belongs to"
            ),
        },
    };
    let key = LiveKitKey { api_key: key.api_key.clone(), account_sid, api_secret: key.api_secret.clone() };
    store.put_livekit_key(&key, true).await?;
    Ok(())
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
