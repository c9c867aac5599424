//! The one HTTP error type: every failure becomes Twilio's v1 error JSON (docs/behaviour.md §3).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roomlog_core::{ParamError, StoreError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, 20403, message)
    }
    /// `path` is the request path; Twilio names the resource without the version prefix.
    pub fn not_found(path: &str) -> ApiError {
        let resource = path.strip_prefix("/v1").unwrap_or(path);
        ApiError::new(StatusCode::NOT_FOUND, 20404, format!("The requested resource {resource} was not found"))
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, 20001, message)
    }
    pub fn method_not_allowed(method: &str) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, format!("Method {method} not allowed"))
    }
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, 20001, format!("Request body is larger than {limit} bytes"))
    }
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service unavailable: the database cannot be reached; retry later",
        )
    }
    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, 20500, "Internal server error")
    }
}

impl From<ParamError> for ApiError {
    fn from(error: ParamError) -> ApiError {
        ApiError::invalid(error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::unavailable()
            }
            StoreError::Contention(cause) => {
                tracing::warn!(%cause, "write contention outlasted the retries");
                ApiError::unavailable()
            }
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, 20404, "The requested resource was not found"),
            StoreError::Conflict(cause) => ApiError::new(StatusCode::CONFLICT, 20409, cause),
            StoreError::Other(cause) => {
                // 5xx bodies are opaque; the cause goes to the log inside the request span.
                tracing::error!(error = %cause, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"roomlog\""));
        }
        response
    }
}
