//! One identity across rooms, `GET /v1/Video/Participants?Identity=…` (docs/behaviour.md §7.2):
//! the identity's sessions in every room of the account, newest first, each exactly as the
//! participant resource serves it, on the same paging contract as the Insights lists.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use roomlog_core::page::Page;
use roomlog_core::query::parse_identity_search;
use roomlog_core::summary::render_participant;
use roomlog_core::StoredJson;
use serde::Deserialize;

use crate::http::auth::Authenticated;
use crate::http::cache::{self, Keep};
use crate::http::error::ApiError;
use crate::http::insights::{cache_key, pairs_ref, query_pairs};
use crate::http::listing::{page_request, render, ListUrl, Scope};
use crate::http::{page_tokens, public_base};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/Participants", get(search))
}

/// The room a stored participant summary belongs to.
#[derive(Deserialize)]
struct InRoom<'a> {
    room_sid: &'a str,
}

fn room_of(json: &StoredJson) -> &str {
    serde_json::from_str::<InRoom<'_>>(&json.0).map_or("", |p| p.room_sid)
}

async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let pairs = query_pairs(&uri);
        let (filter, paging) = parse_identity_search(pairs_ref(&pairs))?;
        let scope = Scope(format!("{}|identity|{}", auth.account, filter.canonical()));
        let tokens = page_tokens(&state)?;
        let request = page_request(&paging, tokens, &scope, None)?;
        let rows = state.store.list_identity_sessions(&auth.account, &filter, &request).await?;
        let page = Page::assemble(rows, &request);
        let url = ListUrl { base: &base, path: "/v1/Video/Participants", filters: filter.query_pairs() };
        let body = render("participants", &url, &request, &paging, &page, (tokens, &scope), |out, row| {
            render_participant(out, &base, room_of(&row.json), &row.sid, &row.json)
        });
        Ok((body, Keep::Yes))
    })
    .await
}
