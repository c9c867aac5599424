//! The events-out page: the signed-in account's forward targets and webhook endpoints, with the
//! pending and failed messages of each and its latest delivery error (docs/behaviour.md §6). The
//! endpoints' secrets are never shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::sign_in::SignedIn;
use super::{page, Nav, PageError};
use crate::state::AppState;

struct TargetRow {
    kind: &'static str,
    /// The endpoint's id for a webhook endpoint.
    id: String,
    url: String,
    pending: u64,
    failed: u64,
    last_error: String,
    /// No longer configured, but messages to it remain.
    removed: bool,
}

#[derive(Template)]
#[template(path = "dashboard/delivery.html")]
struct DeliveryPage {
    nav: Option<Nav>,
    account: String,
    rows: Vec<TargetRow>,
}

pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    let account = &signed_in.account;
    let mut states = state.store.target_states(account).await?;
    let mut take = |url: &str| {
        let i = states.iter().position(|s| s.target == url);
        i.map(|i| states.swap_remove(i))
    };
    let mut rows = Vec::new();
    let configured = state.store.forward_targets(account).await?.into_iter().map(|url| ("forward", String::new(), url));
    let endpoints = state.store.webhook_endpoints(Some(account)).await?.into_iter().map(|e| ("webhook", e.id, e.url));
    for (kind, id, url) in configured.chain(endpoints).collect::<Vec<_>>() {
        let known = take(&url);
        rows.push(TargetRow {
            kind,
            id,
            pending: known.as_ref().map_or(0, |s| s.pending),
            failed: known.as_ref().map_or(0, |s| s.failed),
            last_error: known.and_then(|s| s.last_error).unwrap_or_default(),
            url,
            removed: false,
        });
    }
    for gone in states {
        rows.push(TargetRow {
            kind: "removed",
            id: String::new(),
            url: gone.target,
            pending: gone.pending,
            failed: gone.failed,
            last_error: gone.last_error.unwrap_or_default(),
            removed: true,
        });
    }
    let view = DeliveryPage { nav: Some(signed_in.nav()), account: account.to_string(), rows };
    Ok(page(StatusCode::OK, &view))
}
