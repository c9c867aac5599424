//! What every handler shares: the store, the settings, the caches, and the page-token key,
//! which exists once the database is migrated (until then the server is not ready).

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use roomlog_core::{AccountEvent, AppendOutcome, FoldSettings, Millis, Store, StoreError, TokenKey};
use tokio::sync::Notify;

use crate::config::ServerConfig;
use crate::credential_cache::CredentialCache;
use crate::response_cache::ResponseCache;

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    pub fold: FoldSettings,
    pub credentials: CredentialCache,
    pub cache: ResponseCache,
    /// Woken when events are accepted, so that this node's delivery worker claims the messages
    /// they queued at once rather than at its next poll (docs/design.md, "Outbox").
    pub outbox_wake: Arc<Notify>,
    tokens: OnceLock<TokenKey>,
}

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        let fold = config.fold;
        let cache = ResponseCache::new(config.response_cache_bytes);
        AppState(Arc::new(Shared {
            store,
            config,
            fold,
            credentials: CredentialCache::default(),
            cache,
            outbox_wake: Arc::new(Notify::new()),
            tokens: OnceLock::new(),
        }))
    }

    /// Appends events with the server's fold settings, and wakes the delivery worker if any
    /// was new (a new event is what queues messages).
    pub async fn append(&self, events: &[AccountEvent], now: Millis) -> Result<AppendOutcome, StoreError> {
        let outcome = self.store.append(events, &self.fold, now).await?;
        if outcome.accepted > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(outcome)
    }

    /// Called once the database is migrated: from now on the server serves requests.
    pub fn set_ready(&self, tokens: TokenKey) {
        let _ = self.tokens.set(tokens);
    }

    pub fn is_ready(&self) -> bool {
        self.tokens.get().is_some()
    }

    /// The key page tokens are signed with; `None` until the server is ready.
    pub fn tokens(&self) -> Option<&TokenKey> {
        self.tokens.get()
    }
}
