//! The four Insights resources (docs/behaviour.md §1–§2): thin handlers from query to store to bytes.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use roomlog_core::page::{Page, PageRequest};
use roomlog_core::query::{parse_paging, parse_room_list};
use roomlog_core::summary::render_participant;
use roomlog_core::{AccountSid, Millis, Paging, ParticipantSid, RoomFilter, RoomSid};

use crate::http::auth::Authenticated;
use crate::http::cache::{self, Keep};
use crate::http::error::ApiError;
use crate::http::listing::{page_request, render, ListUrl, Scope};
use crate::http::{page_tokens, public_base};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Video/Rooms", get(list))
        .route("/v1/Video/Rooms/{room_sid}", get(fetch))
        .route("/v1/Video/Rooms/{room_sid}/Participants", get(list_participants))
        .route("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}", get(fetch_participant))
}

pub(crate) fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect()
}

pub(crate) fn pairs_ref(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Path SIDs that do not parse name no resource: 404, like an unknown one.
fn sid<T: std::str::FromStr>(text: &str, uri: &OriginalUri) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(uri.path()))
}

pub use roomlog_core::summary::render_room;

/// One page of an account's rooms, with what its links are built from.
pub struct RoomPage {
    pub scope: Scope,
    pub request: PageRequest,
    pub page: Page,
}

/// The rooms query shared by the API and the dashboard: token scope, default window, store.
pub async fn room_page(
    state: &AppState,
    account: &AccountSid,
    filter: &RoomFilter,
    paging: &Paging,
) -> Result<RoomPage, ApiError> {
    let scope = Scope(format!("{account}|rooms|{}", filter.canonical()));
    // The default window (docs/behaviour.md §2): fixed by the first page, carried by its tokens.
    let window = state.config.default_window_ms;
    let cutoff = (!filter.has_date() && window > 0).then(|| Millis::now().plus_ms(-window));
    let tokens = page_tokens(state)?;
    let request = page_request(paging, tokens, &scope, cutoff)?;
    let rows = state.store.list_rooms(account, filter, &request).await?;
    let page = Page::assemble(rows, &request);
    Ok(RoomPage { scope, request, page })
}

async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let pairs = query_pairs(&uri);
        let (filter, paging) = parse_room_list(pairs_ref(&pairs))?;
        let keep = keep_list(state.config.default_window_ms > 0, &filter, &paging);
        let RoomPage { scope, request, page } = room_page(&state, &auth.account, &filter, &paging).await?;
        let url = ListUrl { base: &base, path: "/v1/Video/Rooms", filters: filter.query_pairs() };
        let tokens = page_tokens(&state)?;
        let body = render("rooms", &url, &request, &paging, &page, (tokens, &scope), |out, row| {
            render_room(out, &base, &row.sid, &row.json)
        });
        Ok((body, keep))
    })
    .await
}

/// A first page under the default window depends on the clock, not only on the database; its
/// next pages carry the window in their token.
fn keep_list(default_window: bool, filter: &RoomFilter, paging: &Paging) -> Keep {
    if default_window && !filter.has_date() && paging.page_token.is_none() {
        Keep::No
    } else {
        Keep::Yes
    }
}

/// What a cached answer depends on besides the database: the account, the base of its URLs,
/// and the request's path and query as sent.
pub(crate) fn cache_key(auth: &Authenticated, base: &str, uri: &OriginalUri) -> String {
    let target = uri.path_and_query().map_or("", |p| p.as_str());
    format!("{}\n{base}\n{target}", auth.account)
}

async fn fetch(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
    Path(room_sid): Path<String>,
) -> Result<Response, ApiError> {
    let room: RoomSid = sid(&room_sid, &uri)?;
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let stored = state.store.room(&auth.account, &room).await?.ok_or_else(|| ApiError::not_found(uri.path()))?;
        let mut body = String::with_capacity(stored.0.len() + 200);
        render_room(&mut body, &base, room.as_str(), &stored);
        Ok((body, Keep::Yes))
    })
    .await
}

async fn list_participants(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
    Path(room_sid): Path<String>,
) -> Result<Response, ApiError> {
    let room: RoomSid = sid(&room_sid, &uri)?;
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let pairs = query_pairs(&uri);
        let paging = parse_paging(pairs_ref(&pairs))?;
        // A room that does not exist (for this account) has no participants resource.
        state.store.room(&auth.account, &room).await?.ok_or_else(|| ApiError::not_found(uri.path()))?;
        let scope = Scope(format!("{}|participants|{}", auth.account, room));
        let tokens = page_tokens(&state)?;
        let request = page_request(&paging, tokens, &scope, None)?;
        let rows = state.store.list_participants(&auth.account, &room, &request).await?;
        let page = Page::assemble(rows, &request);
        let path = format!("/v1/Video/Rooms/{room}/Participants");
        let url = ListUrl { base: &base, path: &path, filters: Vec::new() };
        let body = render("participants", &url, &request, &paging, &page, (tokens, &scope), |out, row| {
            render_participant(out, &base, room.as_str(), &row.sid, &row.json)
        });
        Ok((body, Keep::Yes))
    })
    .await
}

async fn fetch_participant(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
    Path((room_sid, participant_sid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let room: RoomSid = sid(&room_sid, &uri)?;
    let participant: ParticipantSid = sid(&participant_sid, &uri)?;
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let stored = state
            .store
            .participant(&auth.account, &room, &participant)
            .await?
            .ok_or_else(|| ApiError::not_found(uri.path()))?;
        let mut body = String::with_capacity(stored.0.len() + 200);
        render_participant(&mut body, &base, room.as_str(), participant.as_str(), &stored);
        Ok((body, Keep::Yes))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_first_page_under_the_default_window_is_not_kept() {
        let keep = |window, query: &[(&str, &str)]| {
            let (filter, paging) = parse_room_list(query.iter().copied()).unwrap();
            keep_list(window, &filter, &paging)
        };
        assert_eq!(keep(true, &[]), Keep::No);
        assert_eq!(keep(true, &[("RoomType", "go"), ("PageSize", "5")]), Keep::No);
        assert_eq!(keep(true, &[("CreatedAfter", "2025-10-27")]), Keep::Yes);
        assert_eq!(keep(true, &[("CreatedBefore", "2025-10-27T18:00:00Z")]), Keep::Yes);
        assert_eq!(keep(true, &[("PageToken", "PAx")]), Keep::Yes);
        assert_eq!(keep(false, &[]), Keep::Yes);
    }
}
