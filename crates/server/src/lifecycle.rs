//! The room lifecycle (BEHAVIOUR §5): summaries that change with time alone — `processing_state`
//! after the settle window, rooms closed by the room timeout — are refreshed by a background
//! task whose single step is a plain function tests call with a chosen "now".

use std::sync::Arc;
use std::time::Duration;

use roomlog_core::{FoldSettings, Millis, Store, StoreError};
use tokio::sync::watch;

/// How often the background task looks for rooms due for a change.
pub const TICK: Duration = Duration::from_secs(5);

/// One pass: re-summarises every room whose time-driven change is due at `now`.
pub async fn step(store: &dyn Store, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    store.revisit_due(settings, now).await
}

pub async fn run(store: Arc<dyn Store>, settings: FoldSettings, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match step(store.as_ref(), &settings, Millis::now()).await {
                    Ok(0) => {}
                    Ok(changed) => tracing::debug!(changed, "lifecycle step"),
                    Err(error) => tracing::warn!(%error, "lifecycle step failed; retrying next tick"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}
