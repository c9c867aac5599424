//! Usage over time, `GET /v1/Video/Usage` (docs/behaviour.md §7.1): one row per day or month of
//! the range, zero rows included, over what each room of the account adds to its day.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use roomlog_core::usage::{day_number, parse_usage, rows};
use serde_json::json;

use crate::http::auth::Authenticated;
use crate::http::cache::{self, Keep};
use crate::http::error::ApiError;
use crate::http::insights::{cache_key, pairs_ref, query_pairs};
use crate::http::public_base;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/Video/Usage", get(usage))
}

async fn usage(
    State(state): State<AppState>,
    auth: Authenticated,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = public_base(&state, &headers);
    cache::answer(&state, || cache_key(&auth, &base, &uri), async {
        let pairs = query_pairs(&uri);
        let query = parse_usage(pairs_ref(&pairs), Utc::now().date_naive())?;
        let rooms = state.store.room_usage(&auth.account, day_number(query.start), day_number(query.end)).await?;
        let url = format!(
            "{base}/v1/Video/Usage?{}",
            form_urlencoded::Serializer::new(String::new()).extend_pairs(query.query_pairs()).finish()
        );
        let body = json!({
            "usage": rows(&query, rooms),
            "meta": {
                "key": "usage",
                "start_date": query.start.to_string(),
                "end_date": query.end.to_string(),
                "granularity": query.granularity.as_str(),
                "url": url,
            },
        });
        // Without both dates the range depends on the day it is answered.
        Ok((body.to_string(), if query.dated { Keep::Yes } else { Keep::No }))
    })
    .await
}
