//! The response cache of the Insights GETs: whole answers kept as bytes, keyed by account,
//! public base URL and the request's path and query. An answer is trusted only while the
//! store's change marker (`Store::change_marker`) reads as it did before the answer was computed,
//! so no cached answer outlives a commit by any process. Off when the backend has no marker
//! (PostgreSQL, where other nodes write) and for answers that depend on the clock (a list under
//! a fresh default window).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::ApiError;

pub struct ResponseCache {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The marker every entry was computed under.
    marker: u64,
    bytes: usize,
    entries: HashMap<String, Bytes>,
}

impl ResponseCache {
    /// Holds up to `budget` bytes of answers; `0` turns the cache off.
    pub fn new(budget: usize) -> ResponseCache {
        ResponseCache { budget, inner: Mutex::new(Inner::default()) }
    }

    fn get(&self, marker: u64, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().ok()?;
        if inner.marker != marker {
            // Something was committed: every entry is stale.
            *inner = Inner { marker, ..Inner::default() };
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Keeps an answer computed after `marker` was read, unless a commit has been seen since.
    fn put(&self, marker: u64, key: String, body: Bytes) {
        if body.len() > self.budget / 4 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.marker != marker {
            return;
        }
        if inner.bytes + body.len() > self.budget {
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += body.len();
        if let Some(previous) = inner.entries.insert(key, body) {
            inner.bytes -= previous.len();
        }
    }
}

fn json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Answers a GET from the cache when it may, else with `compute`'s body, kept for later when
/// `compute` says it may be. `key` must name everything the answer depends on besides the
/// database and the clock; whether it depends on the clock is for `compute` to say, so the
/// request is looked up before it is even parsed (only answers that may be kept ever are).
pub async fn answer(
    state: &AppState,
    key: impl FnOnce() -> String,
    compute: impl Future<Output = Result<(String, Keep), ApiError>>,
) -> Result<Response, ApiError> {
    // Read before computing: an answer is never filed under a marker newer than its data.
    let marker = if state.cache.budget > 0 { state.store.change_marker() } else { None };
    let Some(marker) = marker else {
        return Ok(json(Bytes::from(compute.await?.0)));
    };
    let key = key();
    if let Some(body) = state.cache.get(marker, &key) {
        return Ok(json(body));
    }
    let (body, keep) = compute.await?;
    let body = Bytes::from(body);
    if keep == Keep::Yes {
        state.cache.put(marker, key, body.clone());
    }
    Ok(json(body))
}

/// Whether an answer depends only on the database and its request (and may be cached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Yes,
    /// It depends on the clock too: a first page under the default window.
    No,
}
