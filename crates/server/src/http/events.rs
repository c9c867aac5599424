//! `POST /v1/Video/Events` (BEHAVIOUR §4.2): one JSON event or a batch of up to 1000, all or
//! nothing, acknowledged with 202 only once every event is durable.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use roomlog_core::{AccountEvent, AccountSid, Millis, RoomEvent};
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;

pub const MAX_BATCH: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/Events", post(receive).layer(DefaultBodyLimit::max(MAX_BODY)))
}

/// Batches of 1000 events with generous optional fields fit well within this.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

async fn receive(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(MAX_BODY),
        _ => ApiError::invalid(rejection.body_text()),
    })?;
    let events = parse_batch(&auth.account, &body)?;
    let outcome = state.store.append(&events, &state.fold, Millis::now()).await?;
    let body = json!({"accepted": outcome.accepted, "duplicates": outcome.duplicates});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Reads a body into events of `account`; the first bad event fails the whole batch, named by
/// its index.
pub fn parse_batch(account: &AccountSid, body: &[u8]) -> Result<Vec<AccountEvent>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))?;
    match value {
        Value::Object(mut object) if object.contains_key("events") => {
            let Some(Value::Array(items)) = object.remove("events") else {
                return Err(ApiError::invalid("events must be an array of event objects"));
            };
            if items.is_empty() {
                return Err(ApiError::invalid("events must hold at least one event"));
            }
            if items.len() > MAX_BATCH {
                return Err(ApiError::invalid(format!(
                    "events holds {} events; at most {MAX_BATCH} per request",
                    items.len()
                )));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| parse_event(account, item).map_err(|e| ApiError::invalid(format!("events[{i}]: {e}"))))
                .collect()
        }
        Value::Object(_) => {
            Ok(vec![parse_event(account, value).map_err(|e| ApiError::invalid(format!("event: {e}")))?])
        }
        _ => Err(ApiError::invalid("The body must be an event object or {\"events\": [...]}")),
    }
}

fn parse_event(account: &AccountSid, raw: Value) -> Result<AccountEvent, String> {
    let Value::Object(mut fields) = raw.clone() else {
        return Err("an event must be a JSON object".into());
    };
    let event_id = take_string(&mut fields, "event_id")?;
    if event_id.as_ref().is_some_and(|id| id.is_empty() || id.len() > 256) {
        return Err("event_id must be 1 to 256 characters".into());
    }
    // The account is the caller's; an event naming another one is refused, not moved.
    if let Some(named) = take_string(&mut fields, "account_sid")? {
        if named != account.as_str() {
            return Err("account_sid does not match the authenticated account".into());
        }
    }
    let event: RoomEvent = serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())?;
    event.validate().map_err(|e| e.to_string())?;
    Ok(AccountEvent::new(account.clone(), event_id, event, "json", raw))
}

fn take_string(fields: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match fields.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}
