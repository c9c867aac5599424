//! The HTTP handlers (each module exports a `router()`; `crate::router` assembles them), the
//! headers every response carries (CORS, request id), Twilio-style 404/405 fallbacks, and the
//! public base URL every absolute URL is built from.

pub mod auth;
pub mod cache;
pub mod callbacks;
pub mod error;
pub mod events;
pub mod health;
pub mod identity;
pub mod insights;
pub mod listing;
pub mod livekit;
pub mod usage;

use axum::extract::{OriginalUri, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use roomlog_core::TokenKey;

use crate::state::AppState;
use error::ApiError;

pub async fn not_found(uri: OriginalUri) -> ApiError {
    ApiError::not_found(uri.path())
}

pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::method_not_allowed(method.as_str())
}

const CORS: [(&str, &str); 5] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    ("access-control-allow-headers", "Accept, Authorization, Content-Type, If-None-Match"),
    ("access-control-expose-headers", "ETag"),
    ("access-control-allow-credentials", "true"),
];

/// CORS on every response and `OPTIONS` answered 204 without auth; a `Twilio-Request-Id`
/// (docs/behaviour.md §3).
pub async fn common_headers(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in CORS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    let mut id = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut id);
    if let Ok(value) = HeaderValue::from_str(&format!("RQ{}", hex::encode(id))) {
        headers.insert(HeaderName::from_static("twilio-request-id"), value);
    }
    response
}

/// The base of every absolute URL: the configured public URL, else `scheme://Host` of the
/// request, with `X-Forwarded-Proto`/`-Host` honoured only when the proxy is trusted.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let header_text = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.split(',').next().unwrap_or("").trim().to_owned())
    };
    let forwarded =
        |name: &str| if state.config.trust_proxy { header_text(name).filter(|v| !v.is_empty()) } else { None };
    let scheme =
        forwarded("x-forwarded-proto").filter(|s| s == "http" || s == "https").unwrap_or_else(|| "http".into());
    let host = forwarded("x-forwarded-host")
        .or_else(|| header_text(header::HOST.as_str()))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c)))
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("{scheme}://{host}")
}

/// The key page tokens are signed with: 503 until the database is migrated.
pub fn page_tokens(state: &AppState) -> Result<&TokenKey, ApiError> {
    state.tokens().ok_or_else(ApiError::unavailable)
}
