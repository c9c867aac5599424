//! The response cache of the Insights GETs: whole answers kept as bytes, keyed by account,
//! public base URL and the request's path and query. An answer is trusted only while the
//! store's change marker (`Store::change_marker`) reads as it did before the answer was computed,
//! so no cached answer outlives a commit by any process. Off when the backend has no marker
//! (PostgreSQL, where other nodes write) and for answers that depend on the clock (a list under
//! a fresh default window).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

pub struct ResponseCache {
    pub budget: usize,
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

    pub fn get(&self, marker: u64, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().ok()?;
        if inner.marker != marker {
            // Something was committed: every entry is stale.
            *inner = Inner { marker, ..Inner::default() };
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Keeps an answer computed after `marker` was read, unless a commit has been seen since.
    pub fn put(&self, marker: u64, key: String, body: Bytes) {
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
