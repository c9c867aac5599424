//! The room lifecycle (docs/behaviour.md §5): summaries that change with time alone — `processing_state`
//! after the settle window, rooms closed by the room timeout — are refreshed by a background
//! task whose single step is a plain function tests call with a chosen "now". The same task
//! applies the retention setting (`--retention`), also as a plain function.

use std::sync::Arc;
use std::time::Duration;

use roomlog_core::{FoldSettings, Millis, Store, StoreError};
use tokio::sync::watch;

/// How often the background task looks for rooms due for a change.
pub const TICK: Duration = Duration::from_secs(5);
/// Retention runs at start and then every this many ticks (hourly): it scans the rooms table.
const EXPIRE_EVERY_TICKS: u64 = 720;

/// One pass: re-summarises every room whose time-driven change is due at `now`.
pub async fn step(store: &dyn Store, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    store.revisit_due(settings, now).await
}

/// Retention: deletes the rooms created more than `retention_ms` before `now` (with their
/// participants and events); `0` keeps everything, the default and the reason people run roomlog.
pub async fn expire(store: &dyn Store, retention_ms: i64, now: Millis) -> Result<u64, StoreError> {
    if retention_ms <= 0 {
        return Ok(0);
    }
    store.purge_before(now.plus_ms(-retention_ms)).await
}

pub async fn run(store: Arc<dyn Store>, settings: FoldSettings, retention_ms: i64, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(TICK);
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match step(store.as_ref(), &settings, Millis::now()).await {
                    Ok(0) => {}
                    Ok(changed) => tracing::debug!(changed, "lifecycle step"),
                    Err(error) => tracing::warn!(%error, "lifecycle step failed; retrying next tick"),
                }
                if ticks.is_multiple_of(EXPIRE_EVERY_TICKS) {
                    match expire(store.as_ref(), retention_ms, Millis::now()).await {
                        Ok(0) => {}
                        Ok(purged) => tracing::info!(purged, "rooms past the retention period deleted"),
                        Err(error) => tracing::warn!(%error, "retention pass failed; retrying later"),
                    }
                }
                ticks += 1;
            }
            _ = stop.changed() => return,
        }
    }
}
