//! An application that roomlog delivers to (docs/behaviour.md §6): a real HTTP server on a local
//! port that records every request and answers as a test scripts it — a status, a hang, or 200.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// How long roomlog waits for an answer (docs/behaviour.md §6.3).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// This status, with `Retry-After` if given (seconds).
    Status(u16, Option<u32>),
    /// 200 after this long; past roomlog's 10 s timeout it is a hang, not a delivery.
    Late(Duration),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: String,
    /// Whether it was answered with a 2xx (what roomlog counts as delivered).
    pub accepted: bool,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The form parameters of a forward, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body.as_bytes()).into_owned().collect()
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Answer>,
    /// When the script is used up.
    otherwise: Option<Answer>,
    log: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub address: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    server: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if Arc::strong_count(&self.server) == 1 {
            self.server.abort();
        }
    }
}

/// A local port nothing listens on (yet): a target that is down.
pub async fn free_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    listener.local_addr().expect("an address")
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::on(free_address().await).await
    }

    /// Listens on `address` (a target that was down comes up).
    pub async fn on(address: SocketAddr) -> Receiver {
        let listener = TcpListener::bind(address).await.expect("the receiver's port is free");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback(record).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the receiver serves");
        });
        Receiver { address, inner, server: Arc::new(server) }
    }

    /// A URL on this receiver.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.address)
    }

    /// The next requests are answered so, in order; then as `otherwise` says (200 by default).
    pub fn script(&self, answers: &[Answer]) {
        self.inner.lock().unwrap().script.extend(answers.iter().copied());
    }

    pub fn otherwise(&self, answer: Option<Answer>) {
        self.inner.lock().unwrap().otherwise = answer;
    }

    pub fn log(&self) -> Vec<Received> {
        self.inner.lock().unwrap().log.clone()
    }

    /// Waits (up to `within`) until `done` holds for the log, and returns the log; panics with
    /// `what` and the log's size otherwise.
    pub async fn wait_until(&self, within: Duration, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(Instant::now() < deadline, "{what}: not within {within:?} ({} requests received)", log.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn record(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.script.pop_front().or(inner.otherwise)
    };
    let (status, retry_after) = match answer {
        Some(Answer::Status(status, retry_after)) => (StatusCode::from_u16(status).expect("a status"), retry_after),
        _ => (StatusCode::OK, None),
    };
    let late = match answer {
        Some(Answer::Late(duration)) => duration,
        _ => Duration::ZERO,
    };
    // Recorded on arrival, so a request still hanging is already in the log.
    let accepted = status.is_success() && late < DELIVERY_TIMEOUT;
    let body = String::from_utf8_lossy(&body).into_owned();
    inner.lock().unwrap().log.push(Received { method, uri, headers, body, accepted });
    tokio::time::sleep(late).await;
    let mut response = status.into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}
