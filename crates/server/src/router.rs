//! The whole HTTP application, assembled above the handlers: every module's routes, the 404/405
//! fallbacks, the one body limit, the readiness gate, the common headers and the request trace.

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::{dashboard, http};

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(http::insights::router())
        .merge(http::identity::router())
        .merge(http::usage::router())
        .merge(http::events::router())
        .merge(http::callbacks::router())
        .merge(http::livekit::router())
        .merge(http::health::router())
        .merge(dashboard::router())
        .method_not_allowed_fallback(http::method_not_allowed)
        .fallback(http::not_found)
        .layer(DefaultBodyLimit::max(http::events::MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), http::health::readiness_gate))
        .with_state(state)
        .layer(middleware::from_fn(http::common_headers))
        .layer(TraceLayer::new_for_http())
}
