//! Liveness and readiness: `/healthz` answers while the process runs; `/readyz` only once the
//! database is migrated and while it answers. Until the server is ready every other route
//! answers 503, so a node can start before its database (docs/operations.md, "Start-up").

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::state::AppState;
use roomlog_core::store::IMPORT_JOB;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if !state.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "starting: waiting for the database"})));
    }
    match state.store.ping().await {
        Ok(()) => {
            let mut detail = json!({"status": "ready"});
            if let Some(run) = last_import(&state).await {
                detail["import"] = run;
            }
            (StatusCode::OK, Json(detail))
        }
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "database unreachable"})))
        }
    }
}

/// The latest scheduled import (`serve --import-from`), if one ran on this database: when, on
/// which node, and how it ended. Its failures never make the server unready.
async fn last_import(state: &AppState) -> Option<Value> {
    let run = state.store.job_runs(IMPORT_JOB, 1).await.ok()?.into_iter().next()?;
    Some(json!({
        "started": run.started.to_rfc3339_millis(),
        "finished": run.finished.to_rfc3339_millis(),
        "ok": run.ok,
        "rooms": run.rooms,
        "message": run.message,
        "node": run.holder,
    }))
}

/// 503 in Twilio's error format for everything but the health routes until the server is ready.
pub async fn readiness_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if state.is_ready() || path == "/healthz" || path == "/readyz" {
        next.run(request).await
    } else {
        ApiError::unavailable().into_response()
    }
}
