//! `POST /v1/Video/Events` (docs/behaviour.md §4.2): one JSON event or a batch of up to 1000, all or
//! nothing, acknowledged with 202 only once every event is durable.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use roomlog_core::{AccountEvent, AccountSid, Millis, RoomEvent};
use std::borrow::Cow;
use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::state::AppState;

pub const MAX_BATCH: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/Events", post(receive))
}

/// Batches of 1000 events with generous optional fields fit well within this.
/// The largest body any route reads (docs/behaviour.md §3); `crate::router` applies it.
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
    let outcome = state.append(&events, Millis::now()).await?;
    let body = json!({"accepted": outcome.accepted, "duplicates": outcome.duplicates});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Reads a body into events of `account`; the first bad event fails the whole batch, named by
/// its index. Each event is read straight from its slice of the body, which is also what is
/// stored as its raw record: no JSON tree is built.
pub fn parse_batch(account: &AccountSid, body: &[u8]) -> Result<Vec<AccountEvent>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))?;
    let Ok(top) = serde_json::from_str::<HashMap<Cow<'_, str>, &RawValue>>(text) else {
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Err(e) => ApiError::invalid(format!("Invalid JSON body: {e}")),
            Ok(_) => ApiError::invalid("The body must be an event object or {\"events\": [...]}"),
        });
    };
    let Some(events) = top.get("events") else {
        return Ok(vec![parse_event(account, text).map_err(|e| ApiError::invalid(format!("event: {e}")))?]);
    };
    let items: Vec<&RawValue> = serde_json::from_str(events.get())
        .map_err(|_| ApiError::invalid("events must be an array of event objects"))?;
    if items.is_empty() {
        return Err(ApiError::invalid("events must hold at least one event"));
    }
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!("events holds {} events; at most {MAX_BATCH} per request", items.len())));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_event(account, item.get()).map_err(|e| ApiError::invalid(format!("events[{i}]: {e}"))))
        .collect()
}

/// The fields of an event that are not `RoomEvent`'s, read from the same text.
#[derive(Deserialize)]
struct Envelope {
    event_id: Option<Value>,
    account_sid: Option<Value>,
}

fn parse_event(account: &AccountSid, raw: &str) -> Result<AccountEvent, String> {
    let envelope: Envelope = serde_json::from_str(raw).map_err(|_| "an event must be a JSON object".to_owned())?;
    let event_id = string_field(envelope.event_id, "event_id")?;
    if event_id.as_ref().is_some_and(|id| id.is_empty() || id.len() > 256) {
        return Err("event_id must be 1 to 256 characters".into());
    }
    // The account is the caller's; an event naming another one is refused, not moved.
    if let Some(named) = string_field(envelope.account_sid, "account_sid")? {
        if named != account.as_str() {
            return Err("account_sid does not match the authenticated account".into());
        }
    }
    let event: RoomEvent = serde_json::from_str(raw).map_err(without_position)?;
    event.validate().map_err(|e| e.to_string())?;
    Ok(AccountEvent::new(account.clone(), event_id, event, "json", raw.to_owned()))
}

/// serde_json's message without its " at line L column C": the index names the event.
fn without_position(error: serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    message.strip_suffix(&position).unwrap_or(&message).to_owned()
}

fn string_field(value: Option<Value>, key: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}
