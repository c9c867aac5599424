//! The events-out page: the signed-in account's forward targets and webhook endpoints, with the
//! pending and failed messages of each and its latest delivery error (docs/behaviour.md §6). The
//! endpoints' secrets are never shown.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use roomlog_core::outbox::TargetState;

use super::sign_in::SignedIn;
use super::{page, Nav, PageError};
use crate::state::AppState;

struct TargetRow {
    /// `forward`, `webhook`, or `removed` (no longer configured, but messages to it remain).
    kind: &'static str,
    /// The endpoint's id for a webhook endpoint.
    id: String,
    url: String,
    pending: u64,
    failed: u64,
    last_error: String,
}

impl TargetRow {
    fn new(kind: &'static str, id: String, url: String, state: Option<TargetState>) -> TargetRow {
        let state = state.unwrap_or(TargetState { target: String::new(), pending: 0, failed: 0, last_error: None });
        TargetRow {
            kind,
            id,
            url,
            pending: state.pending,
            failed: state.failed,
            last_error: state.last_error.unwrap_or_default(),
        }
    }
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
    let forwards = state.store.forward_targets(account).await?.into_iter().map(|url| ("forward", String::new(), url));
    let endpoints = state.store.webhook_endpoints(Some(account)).await?.into_iter().map(|e| ("webhook", e.id, e.url));
    let mut rows: Vec<TargetRow> = forwards
        .chain(endpoints)
        .map(|(kind, id, url)| {
            let known = take(&url);
            TargetRow::new(kind, id, url, known)
        })
        .collect();
    rows.extend(
        states.into_iter().map(|gone| TargetRow::new("removed", String::new(), gone.target.clone(), Some(gone))),
    );
    let view = DeliveryPage { nav: Some(signed_in.nav()), account: account.to_string(), rows };
    Ok(page(StatusCode::OK, &view))
}
