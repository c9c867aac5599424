//! A client of any Twilio-compatible Insights API (roomlog or Twilio itself): HTTP Basic auth,
//! retries (429 `Retry-After`, exponential backoff on 5xx and lost connections), Twilio's error
//! JSON turned into one line, and list pages followed through `meta.next_page_url`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;

/// `username:secret` for HTTP Basic auth: an account SID and auth token, or an API key SID and
/// secret (docs/behaviour.md §3). The secret never appears in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, [redacted])", self.username)
    }
}

/// What went wrong talking to an Insights API, as one line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Twilio's error JSON (docs/behaviour.md §3).
    #[error("error {code}: {message}")]
    Api { status: u16, code: u64, message: String },
    #[error("HTTP {status} from {url}")]
    Http { status: u16, url: String },
    #[error("cannot reach {url}: {cause}")]
    Transport { url: String, cause: String },
    #[error("unexpected answer from {url}: {cause}")]
    Decode { url: String, cause: String },
}

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub attempts: u32,
    /// The first backoff; each further one doubles, up to `max_delay`.
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { attempts: 10, base: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// `base × 2^(attempt−1)`, capped, with up to 25% jitter so parallel requests fall out of step.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_delay);
        capped.mul_f64(1.0 - rand::random::<f64>() * 0.25)
    }
}

/// One page of a list resource: its items (kept as the exact JSON served) and the next page.
#[derive(Debug, Deserialize)]
pub struct ListPage {
    #[serde(alias = "rooms", alias = "participants")]
    pub items: Vec<Box<RawValue>>,
    pub meta: Meta,
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    pub next_page_url: Option<String>,
}

#[derive(Clone)]
pub struct InsightsClient {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    retry: RetryPolicy,
    retries: Arc<AtomicU64>,
}

impl InsightsClient {
    pub fn new(base: &str, credentials: Credentials, retry: RetryPolicy) -> anyhow::Result<InsightsClient> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("roomlog/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        let base = base.trim_end_matches('/').to_owned();
        anyhow::ensure!(base.starts_with("http://") || base.starts_with("https://"), "{base:?} is not an http(s) URL");
        Ok(InsightsClient { http, base, credentials, retry, retries: Arc::default() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// How many requests were retried so far (all clones count together).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// `{base}{path}?{query}`, the query form-encoded in the given order.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{path}", self.base);
        if !query.is_empty() {
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            query.iter().for_each(|(key, value)| {
                encoded.append_pair(key, value);
            });
            url.push('?');
            url.push_str(&encoded.finish());
        }
        url
    }

    /// GETs `url` (absolute, as `next_page_url` is) and reads the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        let body = self.get_bytes(url).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode { url: url.to_owned(), cause: e.to_string() })
    }

    async fn get_bytes(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, delay) = match self.try_once(url).await {
                Ok(body) => return Ok(body),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retry(error, delay)) => (error, delay.unwrap_or_else(|| self.retry.backoff(attempt))),
            };
            if attempt >= self.retry.attempts {
                return Err(error);
            }
            tracing::debug!(%error, ?delay, attempt, "retrying");
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    async fn try_once(&self, url: &str) -> Result<Vec<u8>, Failure> {
        let transport = |e: reqwest::Error| {
            // The innermost cause says what happened ("Connection refused"); reqwest's own
            // message repeats the URL.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            let cause = cause.to_string();
            Failure::Retry(ClientError::Transport { url: url.to_owned(), cause }, None)
        };
        let response = self
            .http
            .get(url)
            .basic_auth(&self.credentials.username, Some(&self.credentials.secret))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(transport)?.to_vec();
        if status.is_success() {
            return Ok(body);
        }
        let error = api_error(status, url, &body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            Err(Failure::Retry(error, retry_after))
        } else if status.is_server_error() {
            Err(Failure::Retry(error, None))
        } else {
            Err(Failure::Final(error))
        }
    }

    /// Every item of a list, page by page, until `limit` items (0: all) or the last page.
    pub async fn for_each_item(
        &self,
        first_url: String,
        limit: usize,
        mut item: impl FnMut(Box<RawValue>) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        let mut seen = 0;
        let mut next = Some(first_url);
        while let Some(url) = next.take() {
            let page: ListPage = self.get(&url).await?;
            for raw in page.items {
                if limit > 0 && seen >= limit {
                    return Ok(seen);
                }
                item(raw)?;
                seen += 1;
            }
            if limit == 0 || seen < limit {
                next = page.meta.next_page_url.filter(|u| !u.is_empty());
            }
        }
        Ok(seen)
    }
}

enum Failure {
    Retry(ClientError, Option<Duration>),
    Final(ClientError),
}

/// Twilio's error JSON when the body is one, else the bare status.
fn api_error(status: StatusCode, url: &str, body: &[u8]) -> ClientError {
    #[derive(Deserialize)]
    struct TwilioError {
        code: u64,
        message: String,
    }
    match serde_json::from_slice::<TwilioError>(body) {
        Ok(e) => ClientError::Api { status: status.as_u16(), code: e.code, message: e.message },
        Err(_) => ClientError::Http { status: status.as_u16(), url: url.to_owned() },
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at five minutes.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(Duration::from_secs(300)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let policy =
            RetryPolicy { attempts: 5, base: Duration::from_millis(100), max_delay: Duration::from_millis(500) };
        for (attempt, nominal) in [(1, 100), (2, 200), (3, 400), (4, 500), (30, 500)] {
            let delay = policy.backoff(attempt).as_millis() as u64;
            assert!((nominal * 3 / 4..=nominal).contains(&delay), "attempt {attempt}: {delay} ms");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a date in the past means now");
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn twilio_error_bodies_become_one_line_with_the_code() {
        let body = br#"{"code": 20404, "message": "The requested resource /Video/Rooms/RM1 was not found",
                        "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
        let error = api_error(StatusCode::NOT_FOUND, "http://x", body);
        assert_eq!(error.to_string(), "error 20404: The requested resource /Video/Rooms/RM1 was not found");
        assert_eq!(api_error(StatusCode::BAD_GATEWAY, "http://x/y", b"<html>").to_string(), "HTTP 502 from http://x/y");
    }
}
