//! LiveKit webhooks (docs/behaviour.md §4.4): the `Authorization` token is verified against a
//! registered LiveKit key, and the raw body against the token's `sha256` claim, before the body
//! is parsed; 200 once the event is durable.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use roomlog_core::account::LiveKitKey;
use roomlog_core::source::livekit_webhook::Webhook;
use roomlog_core::{AccountEvent, Millis};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credential_cache::Credential;
use crate::http::error::ApiError;
use crate::http::events::MAX_BODY;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/LiveKit/Webhook", post(receive))
}

/// LiveKit signs a token when it sends and gives it five minutes; clocks differ by this much.
const LEEWAY_SECS: u64 = 60;

/// The claims a webhook token must carry; the rest (`nbf`, `exp`, grants) are checked by the
/// JWT library or ignored.
#[derive(Deserialize)]
struct WebhookClaims {
    iss: String,
    #[serde(default)]
    sha256: Option<String>,
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|_| ApiError::too_large(MAX_BODY))?;
    let key = verify(&state, &headers, &body).await?;
    let raw = std::str::from_utf8(&body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))?;
    let webhook = Webhook::parse(&body).map_err(|e| ApiError::invalid(e.0))?;
    let now = Millis::now();
    let Some(event) = webhook.to_event(now).map_err(|e| ApiError::invalid(e.0))? else {
        // A web egress or an event type without a room: nothing to keep it under. LiveKit
        // retries anything but a 2xx, so it is acknowledged and named as ignored.
        return Ok(answer(0, 0, 1));
    };
    let event_id = webhook.id.filter(|id| !id.is_empty());
    if event_id.as_ref().is_some_and(|id| id.len() > 256) {
        return Err(ApiError::invalid("id must be at most 256 characters"));
    }
    let event = AccountEvent::new(key.account_sid, event_id, event, "livekit", raw.to_owned());
    let outcome = state.append(std::slice::from_ref(&event), now).await?;
    Ok(answer(outcome.accepted, outcome.duplicates, 0))
}

fn answer(accepted: u64, duplicates: u64, ignored: u64) -> Response {
    let mut body = json!({"accepted": accepted, "duplicates": duplicates});
    if ignored > 0 {
        body["ignored"] = ignored.into();
    }
    (StatusCode::OK, Json(body)).into_response()
}

fn refused(reason: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, 20003, format!("Authenticate: {reason}"))
}

/// The key whose secret signed the token in `Authorization`, once signature, issuer, validity
/// and the body hash have all been checked.
async fn verify(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<LiveKitKey, ApiError> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    let token = strip_bearer(header);
    if token.is_empty() {
        return Err(refused("the Authorization header with LiveKit's webhook token is missing"));
    }
    let issuer = unverified_issuer(token)
        .ok_or_else(|| refused("the Authorization header is not an HS256 JWT naming its key in iss"))?;
    let key = livekit_key(state, &issuer).await?.ok_or_else(|| refused("the token's key is not registered"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_issuer(&[&key.api_key]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    let claims =
        jsonwebtoken::decode::<WebhookClaims>(token, &DecodingKey::from_secret(key.api_secret.as_bytes()), &validation)
            .map_err(|e| refused(&format!("the token is not valid ({e})")))?
            .claims;
    let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    let presented = claims.sha256.unwrap_or_default();
    if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(refused("the body does not match the token's sha256 claim"));
    }
    Ok(key)
}

/// LiveKit sends the bare token; a `Bearer ` prefix is accepted too.
fn strip_bearer(header: &str) -> &str {
    match header.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => header[7..].trim_start(),
        _ => header,
    }
}

/// The `iss` claim read without verification, only to find which secret verifies the token.
fn unverified_issuer(token: &str) -> Option<String> {
    let mut peek = Validation::new(Algorithm::HS256);
    peek.insecure_disable_signature_validation();
    peek.validate_exp = false;
    peek.validate_aud = false;
    peek.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<WebhookClaims>(token, &DecodingKey::from_secret(&[]), &peek).ok()?;
    Some(data.claims.iss).filter(|iss| !iss.is_empty())
}

/// A registered key, through the credential cache (a removed key stops working within its
/// TTL, a new one works at once).
async fn livekit_key(state: &AppState, api_key: &str) -> Result<Option<LiveKitKey>, ApiError> {
    let cache_key = format!("livekit:{api_key}");
    if let Some(found) = state.credentials.get(&cache_key) {
        if let Credential::LiveKit(key) = found.as_ref() {
            return Ok(Some(key.clone()));
        }
    }
    let Some(key) = state.store.livekit_key(api_key).await? else { return Ok(None) };
    state.credentials.put(&cache_key, Credential::LiveKit(key.clone()));
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_authorization_headers_never_panic(header in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = unverified_issuer(strip_bearer(&header));
            let from_bytes = String::from_utf8_lossy(&bytes);
            let _ = unverified_issuer(strip_bearer(&from_bytes));
            // Three base64url parts of arbitrary content, the shape a JWT has.
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let token = format!("{}.{}.{}", b64.encode(&bytes), b64.encode(header.as_bytes()), b64.encode(&bytes));
            let _ = unverified_issuer(&token);
        }
    }

    #[test]
    fn a_bearer_prefix_is_optional() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert_eq!(strip_bearer("Bear"), "Bear");
    }

    #[test]
    fn the_issuer_is_read_from_any_well_formed_token_and_nothing_else() {
        let claims = json!({"iss": "APIkey", "exp": 1, "sha256": "x"});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"whatever"),
        )
        .unwrap();
        assert_eq!(unverified_issuer(&token).as_deref(), Some("APIkey"));
        assert_eq!(unverified_issuer("not.a.jwt"), None);
        assert_eq!(unverified_issuer(""), None);
    }
}
