//! The four Insights resources (BEHAVIOUR §1–§2): thin handlers from query to store to bytes.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use roomlog_core::page::{Page, PageRequest};
use roomlog_core::query::{parse_paging, parse_room_list};
use roomlog_core::{AccountSid, Millis, Paging, ParticipantSid, RoomFilter, RoomSid, StoredJson};

use crate::app::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::listing::{page_request, render, ListUrl, Scope};
use crate::http::public_base;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/Video/Rooms", get(list))
        .route("/v1/Video/Rooms/{room_sid}", get(fetch))
        .route("/v1/Video/Rooms/{room_sid}/Participants", get(list_participants))
        .route("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}", get(fetch_participant))
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn query_pairs(uri: &axum::http::Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect()
}

fn pairs_ref(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Path SIDs that do not parse name no resource: 404, like an unknown one.
fn sid<T: std::str::FromStr>(text: &str, uri: &OriginalUri) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(uri.path()))
}

fn room_url(base: &str, room: &str) -> String {
    format!("{base}/v1/Video/Rooms/{room}")
}

fn render_room(out: &mut String, base: &str, room_sid: &str, json: &StoredJson) {
    let url = room_url(base, room_sid);
    let participants = format!("{url}/Participants");
    json.render_into(out, &url, Some(("participants", &participants)));
}

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
    // The default window (BEHAVIOUR §2): fixed by the first page, carried by its tokens.
    let window = state.config.default_window.millis();
    let cutoff = (!filter.has_date() && window > 0).then(|| Millis::now().plus_ms(-window));
    let request = page_request(paging, &state.tokens, &scope, cutoff)?;
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
    let pairs = query_pairs(&uri);
    let (filter, paging) = parse_room_list(pairs_ref(&pairs))?;
    let RoomPage { scope, request, page } = room_page(&state, &auth.account, &filter, &paging).await?;
    let base = public_base(&state, &headers);
    let url = ListUrl { base: &base, path: "/v1/Video/Rooms", filters: filter.query_pairs() };
    let body = render("rooms", &url, &request, &paging, &page, (&state.tokens, &scope), |out, row| {
        render_room(out, &base, &row.sid, &row.json)
    });
    Ok(json(body))
}

async fn fetch(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
    Path(room_sid): Path<String>,
) -> Result<Response, ApiError> {
    let room: RoomSid = sid(&room_sid, &uri)?;
    let stored = state.store.room(&auth.account, &room).await?.ok_or_else(|| ApiError::not_found(uri.path()))?;
    let mut body = String::with_capacity(stored.0.len() + 200);
    render_room(&mut body, &public_base(&state, &headers), room.as_str(), &stored);
    Ok(json(body))
}

async fn list_participants(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
    Path(room_sid): Path<String>,
) -> Result<Response, ApiError> {
    let room: RoomSid = sid(&room_sid, &uri)?;
    let pairs = query_pairs(&uri);
    let paging = parse_paging(pairs_ref(&pairs))?;
    // A room that does not exist (for this account) has no participants resource.
    state.store.room(&auth.account, &room).await?.ok_or_else(|| ApiError::not_found(uri.path()))?;
    let scope = Scope(format!("{}|participants|{}", auth.account, room));
    let request = page_request(&paging, &state.tokens, &scope, None)?;
    let rows = state.store.list_participants(&auth.account, &room, &request).await?;
    let page = Page::assemble(rows, &request);
    let base = public_base(&state, &headers);
    let path = format!("/v1/Video/Rooms/{room}/Participants");
    let url = ListUrl { base: &base, path: &path, filters: Vec::new() };
    let body = render("participants", &url, &request, &paging, &page, (&state.tokens, &scope), |out, row| {
        row.json.render_into(out, &format!("{base}{path}/{}", row.sid), None)
    });
    Ok(json(body))
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
    let stored = state
        .store
        .participant(&auth.account, &room, &participant)
        .await?
        .ok_or_else(|| ApiError::not_found(uri.path()))?;
    let url = format!("{}/v1/Video/Rooms/{room}/Participants/{participant}", public_base(&state, &headers));
    let mut body = String::with_capacity(stored.0.len() + 200);
    stored.render_into(&mut body, &url, None);
    Ok(json(body))
}
