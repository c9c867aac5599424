//! Twilio status callbacks (docs/behaviour.md §4.1): the raw request is verified against the account's
//! auth token before anything is parsed into domain types; 204 once the event is durable.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use roomlog_core::signature;
use roomlog_core::source::twilio_callback::CallbackParams;
use roomlog_core::{AccountEvent, Millis, Relay};

use crate::http::auth::callback_account;
use crate::http::error::ApiError;
use crate::http::events::MAX_BODY;
use crate::http::public_base;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/Callbacks", get(receive).post(receive))
}

/// A callback as received: the URL the sender called and the parameters it signed.
struct Unverified {
    url: String,
    /// Signed parameters: the form body of a POST; none for a GET (they are in the URL).
    signed: CallbackParams,
    /// Every parameter: the query's, then the body's (a body value wins over a query value).
    all: CallbackParams,
}

fn unverified(state: &AppState, method: &Method, uri: &OriginalUri, headers: &HeaderMap, body: &[u8]) -> Unverified {
    let query = uri.query().unwrap_or("");
    let url = match query {
        "" => format!("{}{}", public_base(state, headers), uri.path()),
        _ => format!("{}{}?{query}", public_base(state, headers), uri.path()),
    };
    let signed = if method == Method::POST { CallbackParams::from_form(body) } else { CallbackParams::default() };
    let mut all = CallbackParams::from_form(query.as_bytes());
    all.0.extend(signed.0.iter().cloned());
    Unverified { url, signed, all }
}

async fn receive(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(|_| ApiError::too_large(MAX_BODY))?;
    let request = unverified(&state, &method, &uri, &headers, &body);
    let account_sid =
        request.all.account_sid().ok_or_else(|| ApiError::forbidden("AccountSid is missing or not an account SID"))?;
    let account =
        callback_account(&state, &account_sid).await?.ok_or_else(|| ApiError::forbidden("Unknown account"))?;
    if account.verify_callbacks {
        let presented = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
        if presented.is_empty() || !signature::verify(&account.auth_token, &request.url, &request.signed.0, presented) {
            return Err(ApiError::forbidden("Invalid X-Twilio-Signature"));
        }
    }
    let now = Millis::now();
    let event = request.all.to_event(now).map_err(|e| ApiError::invalid(e.0))?;
    // Passed on to the account's forward targets, if it is new: the same parameters, as a
    // POST body (docs/behaviour.md §6.1).
    let relay = Relay {
        form: form_urlencoded::Serializer::new(String::new()).extend_pairs(&request.all.0).finish(),
        idempotency_token: headers.get("i-twilio-idempotency-token").and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    let event =
        AccountEvent::new(account.sid, None, event, "callback", request.all.raw().to_string()).with_relay(relay);
    state.append(std::slice::from_ref(&event), now).await?;
    Ok(StatusCode::NO_CONTENT)
}
