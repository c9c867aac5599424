//! Answering the Insights GETs through the response cache (`crate::response_cache`).

use std::future::Future;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

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
