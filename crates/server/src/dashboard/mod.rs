//! The dashboard: server-rendered HTML at `GET /` over the same queries as the Insights
//! API, behind a cookie session. No JavaScript; the stylesheet is compiled into the binary.

mod delivery;
mod format;
mod provenance;
mod room;
mod rooms;
pub mod session;
mod sign_in;
pub mod svg;
pub mod timeline;

use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::http::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(rooms::list))
        .route("/rooms/{room_sid}", get(room::fetch))
        .route("/events-out", get(delivery::show))
        .route("/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route(STYLESHEET_PATH, get(stylesheet))
        .layer(middleware::from_fn(page_headers))
}

pub const STYLESHEET_PATH: &str = "/assets/dashboard.css";
const STYLESHEET: &str = include_str!("../../assets/dashboard.css");

async fn stylesheet() -> Response {
    let headers = [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")];
    (headers, STYLESHEET).into_response()
}

/// Pages load nothing but the stylesheet, run no script and are never framed; signed-in pages
/// are not cached.
const PAGE_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in PAGE_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// What the page header shows a signed-in person: who they are and how to sign out.
pub struct Nav {
    pub account: String,
    /// The API key signed in with, when not the account's own token.
    pub key: Option<String>,
    /// The token the sign-out form echoes.
    pub csrf: String,
}

/// Renders a template, or a plain 500 when it cannot (logged, never shown).
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a dashboard page");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    title: &'a str,
    message: &'a str,
}

/// A failure shown as a page: the status and message of the API's error (5xx stay opaque).
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn not_found(what: &str) -> PageError {
        PageError { status: StatusCode::NOT_FOUND, message: format!("{what} was not found in this account.") }
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError { status: error.status, message: error.message }
    }
}

impl From<roomlog_core::StoreError> for PageError {
    fn from(error: roomlog_core::StoreError) -> PageError {
        ApiError::from(error).into()
    }
}

/// A stored summary that no longer reads as one is a server fault.
impl From<serde_json::Error> for PageError {
    fn from(error: serde_json::Error) -> PageError {
        tracing::error!(%error, "a stored summary does not deserialise");
        ApiError::internal().into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        page(self.status, &ErrorPage { nav: None, title, message: &self.message })
    }
}
