//! `roomlog-bench-ceiling app LISTEN DELAY_MS`: the application behind roomlog in the forward
//! case (bench/README.md). Every POST is answered 200 after `DELAY_MS`, the way an application
//! that does a little work per callback answers; `GET /stats` says how many arrived, how many
//! distinct bodies among them, and when the first and the last arrived (Unix milliseconds).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

#[derive(Default)]
struct Arrivals {
    received: u64,
    bodies: HashSet<Bytes>,
    first_ms: Option<u64>,
    last_ms: Option<u64>,
}

#[derive(Clone)]
struct App {
    delay: Duration,
    arrivals: Arc<Mutex<Arrivals>>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

async fn receive(State(app): State<App>, body: Bytes) -> &'static str {
    tokio::time::sleep(app.delay).await;
    let now = now_ms();
    let mut arrivals = app.arrivals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    arrivals.received += 1;
    arrivals.bodies.insert(body);
    arrivals.first_ms.get_or_insert(now);
    arrivals.last_ms = Some(now);
    "ok"
}

async fn stats(State(app): State<App>) -> Json<serde_json::Value> {
    let arrivals = app.arrivals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(serde_json::json!({
        "received": arrivals.received,
        "distinct": arrivals.bodies.len(),
        "first_ms": arrivals.first_ms,
        "last_ms": arrivals.last_ms,
    }))
}

pub async fn serve(listen: &str, delay_ms: u64) -> anyhow::Result<()> {
    let app = App { delay: Duration::from_millis(delay_ms), arrivals: Arc::default() };
    let router = Router::new().route("/stats", get(stats)).fallback(receive).with_state(app);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("application listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
