//! The ceiling server: the same HTTP stack as roomlog (axum on tokio), answering each recorded
//! URL with the bytes roomlog answered it with, precomputed. Whatever roomlog does beyond this
//! (auth, parsing, the database, rendering) is what the ratio to this server measures.
//! `app LISTEN DELAY_MS` is the other mode: the application roomlog forwards callbacks to.
#![forbid(unsafe_code)]

mod app;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// roomlog's headers on every answer (docs/behaviour.md §3), with a fixed request id of the same length.
const HEADERS: [(&str, &str); 7] = [
    ("content-type", "application/json"),
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    ("access-control-allow-headers", "Accept, Authorization, Content-Type, If-None-Match"),
    ("access-control-expose-headers", "ETag"),
    ("access-control-allow-credentials", "true"),
    ("twilio-request-id", "RQ00000000000000000000000000000000"),
];

type Answers = Arc<HashMap<String, Bytes>>;

async fn answer(State(answers): State<Answers>, uri: Uri) -> Response {
    let key = uri.path_and_query().map_or("", |p| p.as_str());
    match answers.get(key) {
        Some(body) => {
            let mut response = body.clone().into_response();
            let headers = response.headers_mut();
            for (name, value) in HEADERS {
                headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
            }
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `ceiling LISTEN DIR`: DIR holds `index.tsv` (`path?query<TAB>file` per line) and the files.
/// `ceiling app LISTEN DELAY_MS`: the application of the forward case.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, listen, delay] = args.as_slice() {
        if mode == "app" {
            return app::serve(listen, delay.parse().context("DELAY_MS: a number of milliseconds")?).await;
        }
    }
    let [listen, dir] = args.as_slice() else {
        anyhow::bail!("usage: roomlog-bench-ceiling LISTEN DIR | roomlog-bench-ceiling app LISTEN DELAY_MS");
    };
    let dir = std::path::PathBuf::from(dir);
    let index = std::fs::read_to_string(dir.join("index.tsv")).context("reading index.tsv")?;
    let mut answers = HashMap::new();
    for line in index.lines().filter(|l| !l.is_empty()) {
        let (url, file) = line.split_once('\t').context("index.tsv: url<TAB>file")?;
        let body = std::fs::read(dir.join(file)).with_context(|| format!("reading {file}"))?;
        answers.insert(url.to_owned(), Bytes::from(body));
    }
    let app = Router::new().fallback(answer).with_state(Arc::new(answers));
    let listener = tokio::net::TcpListener::bind(listen.as_str()).await?;
    println!("ceiling listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
