//! The outbox's delivery worker (docs/behaviour.md §6.3): claims due messages under a lease,
//! sends each to its target — forwards re-signed for the target with the account's auth token,
//! room webhooks signed per Standard Webhooks — and records how each attempt ended.
//!
//! Every target has its own queue and its own bounded number of deliveries in flight, started
//! in queue order, so one slow or dead target never delays another; a target whose queue is
//! full is skipped by the claims until it drains. Attempts are recorded in batches, one
//! transaction for all that ended since the last, so that recording keeps up with a fast
//! target. The worker claims when the server accepts new events (`DeliveryConfig::wake`), when a
//! full queue has room again, and every `poll` for what other nodes queued and retries fall due.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use roomlog_core::outbox::{
    retry, room_webhook_body, standard_webhook_signature, Attempt, Message, MessageKind, TargetKey,
};
use roomlog_core::{signature, Millis, Store};
use tokio::sync::{mpsc, watch, Notify, Semaphore};

/// How the worker runs; `DeliveryConfig::new` has the defaults.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// The base of the `url`s inside room webhooks: the server's public URL.
    pub public_base: String,
    /// This node's name in message leases.
    pub holder: String,
    /// Between two claims when nothing woke the worker.
    pub poll: Duration,
    /// One attempt's limit (connect to last byte).
    pub timeout: Duration,
    /// Deliveries in flight per target.
    pub per_target: usize,
    /// A claimed message is this node's for this long; a dead node's messages are free after
    /// it. Longer than a message can wait in its target's queue plus one attempt.
    pub lease: Duration,
    /// Notified when this node accepts new events, which may have queued messages.
    pub wake: Arc<Notify>,
}

impl DeliveryConfig {
    pub fn new(public_base: &str) -> DeliveryConfig {
        let mut id = [0u8; 6];
        rand::thread_rng().fill(&mut id);
        DeliveryConfig {
            public_base: public_base.trim_end_matches('/').to_owned(),
            holder: format!("node-{}-{}", std::process::id(), hex(&id)),
            poll: Duration::from_millis(100),
            timeout: Duration::from_secs(10),
            per_target: 64,
            lease: Duration::from_secs(60),
            wake: Arc::new(Notify::new()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Messages claimed per round, at most `PER_TARGET` of one target's; a target with `BACKLOG`
/// messages queued and not yet started is skipped. A queued message so waits behind fewer than
/// `BACKLOG + PER_TARGET` others, 64 at a time: at most four attempts' timeouts (40 s) before
/// it is sent, within the default lease.
const CLAIM: u32 = 256;
const PER_TARGET: u32 = 128;
const BACKLOG: usize = 128;
/// The shortest time between two claims: a burst of accepted events wakes the worker often,
/// and each claim is a write.
const CLAIM_GAP: Duration = Duration::from_millis(10);
/// Attempts recorded in one transaction, at most.
const RECORD_BATCH: usize = 512;

/// Runs until `stop` turns true; in-flight deliveries finish or their leases expire.
pub async fn run(store: Arc<dyn Store>, config: DeliveryConfig, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("roomlog/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "the outbox cannot send: no HTTP client");
            return;
        }
    };
    let (record, finished) = mpsc::unbounded_channel();
    tokio::spawn(recorder(store.clone(), config.holder.clone(), finished));
    let sender = Arc::new(Sender { store: store.clone(), client, config: config.clone(), record });
    let lease_ms = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let mut queues: HashMap<TargetKey, TargetQueue> = HashMap::new();
    loop {
        let skip: Vec<TargetKey> = queues.iter().filter(|(_, q)| q.is_full()).map(|(key, _)| key.clone()).collect();
        let claimed =
            match store.claim_messages(&config.holder, Millis::now(), lease_ms, PER_TARGET, CLAIM, &skip).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "the outbox cannot claim messages; retrying");
                    Vec::new()
                }
            };
        let more_due = claimed.len() == CLAIM as usize;
        for message in claimed {
            let queue =
                queues.entry(message.message.target_key()).or_insert_with(|| TargetQueue::start(sender.clone()));
            if let Err(message) = queue.push(message) {
                // Its queue stopped (a delivery panicked): another claim will take it.
                let _ = store.release_message(&message.message.id, &config.holder).await;
            }
        }
        if !more_due {
            tokio::select! {
                _ = tokio::time::sleep(config.poll) => {}
                _ = config.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
        if *stop.borrow() {
            return;
        }
        tokio::time::sleep(CLAIM_GAP).await;
    }
}

/// Records attempts as they end, all those waiting in one transaction.
async fn recorder(store: Arc<dyn Store>, holder: String, mut finished: mpsc::UnboundedReceiver<(Message, Attempt)>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while finished.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(error) = store.finish_messages(&holder, &batch, Millis::now()).await {
            // Their leases expire and the messages are sent again: at least once.
            tracing::warn!(%error, attempts = batch.len(), "could not record deliveries");
        }
        batch.clear();
    }
}

struct Sender {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    config: DeliveryConfig,
    record: mpsc::UnboundedSender<(Message, Attempt)>,
}

/// One target's queue: deliveries start in queue order, at most `per_target` at a time.
struct TargetQueue {
    messages: mpsc::UnboundedSender<Message>,
    /// Queued and not yet started.
    backlog: Arc<AtomicUsize>,
}

impl TargetQueue {
    fn start(sender: Arc<Sender>) -> TargetQueue {
        let (queue, mut messages) = mpsc::unbounded_channel::<Message>();
        let backlog = Arc::new(AtomicUsize::new(0));
        let waiting = backlog.clone();
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(sender.config.per_target.max(1)));
            while let Some(message) = messages.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else { return };
                if waiting.fetch_sub(1, Ordering::AcqRel) == BACKLOG {
                    // The claims skipped this target; it has room again.
                    sender.config.wake.notify_one();
                }
                let sender = sender.clone();
                tokio::spawn(async move {
                    let attempt = sender.deliver(&message).await;
                    drop(permit);
                    let _ = sender.record.send((message, attempt));
                });
            }
        });
        TargetQueue { messages: queue, backlog }
    }

    fn is_full(&self) -> bool {
        self.backlog.load(Ordering::Acquire) >= BACKLOG
    }

    /// Queues a message; gives it back if the queue has stopped.
    fn push(&self, message: Message) -> Result<(), Box<Message>> {
        self.backlog.fetch_add(1, Ordering::AcqRel);
        self.messages.send(message).map_err(|e| {
            self.backlog.fetch_sub(1, Ordering::AcqRel);
            Box::new(e.0)
        })
    }
}

impl Sender {
    /// One attempt, and how it ended.
    async fn deliver(&self, message: &Message) -> Attempt {
        let attempt = match self.attempt(message).await {
            Ok(()) => Attempt::Delivered,
            Err(Failure::Transient { error, retry_after_ms }) => {
                let now = Millis::now();
                let jitter: f64 = rand::thread_rng().gen();
                match retry::next(message.expires, now, message.attempts + 1, retry_after_ms, jitter) {
                    Some(at) => Attempt::Retry { at, error },
                    None => Attempt::Failed { error: format!("{error} (gave up after 24 h of retries)") },
                }
            }
            Err(Failure::Permanent(error)) => Attempt::Failed { error },
        };
        if let Attempt::Retry { error, .. } | Attempt::Failed { error } = &attempt {
            tracing::info!(message = %message.message.id, kind = %message.message.kind, %error, "delivery attempt failed");
        }
        attempt
    }

    async fn attempt(&self, message: &Message) -> Result<(), Failure> {
        let m = &message.message;
        let request = match m.kind {
            MessageKind::Forward => {
                let account = self
                    .store
                    .account(&m.account_sid)
                    .await
                    .map_err(|e| Failure::transient(format!("reading the account: {e}")))?
                    .ok_or_else(|| Failure::Permanent("the account no longer exists".into()))?;
                let params: Vec<(String, String)> = form_urlencoded::parse(m.body.as_bytes()).into_owned().collect();
                let mut request = self
                    .client
                    .post(&m.target)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", signature::compute(&account.auth_token, &m.target, &params))
                    .body(m.body.clone());
                if let Some(token) = &m.idempotency_token {
                    request = request.header("i-twilio-idempotency-token", token);
                }
                request
            }
            MessageKind::RoomStarted | MessageKind::RoomCompleted => {
                let endpoint_id = m.endpoint_id.as_deref().unwrap_or_default();
                let endpoint = self
                    .store
                    .webhook_endpoint(endpoint_id)
                    .await
                    .map_err(|e| Failure::transient(format!("reading the endpoint: {e}")))?
                    .ok_or_else(|| Failure::Permanent("the webhook endpoint was removed".into()))?;
                let body = room_webhook_body(m.kind, message.created, &self.config.public_base, &m.body)
                    .map_err(Failure::Permanent)?;
                let timestamp = Millis::now().secs();
                let signature = standard_webhook_signature(&endpoint.secret, &m.id, timestamp, &body)
                    .ok_or_else(|| Failure::Permanent("the endpoint's secret is not whsec_ + base64".into()))?;
                self.client
                    .post(&m.target)
                    .header("content-type", "application/json")
                    .header("webhook-id", &m.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
            }
        };
        let response = request.send().await.map_err(|e| Failure::transient(describe(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after_ms = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|secs| secs.saturating_mul(1000));
        let error = format!("HTTP {} from {}", status.as_u16(), m.target);
        match status.as_u16() {
            408 | 429 | 500..=599 => Err(Failure::Transient { error, retry_after_ms }),
            _ => Err(Failure::Permanent(error)),
        }
    }
}

enum Failure {
    Transient { error: String, retry_after_ms: Option<i64> },
    Permanent(String),
}

impl Failure {
    fn transient(error: String) -> Failure {
        Failure::Transient { error, retry_after_ms: None }
    }
}

/// A transport error in one line: timeouts and refused connections named as such.
fn describe(error: &reqwest::Error) -> String {
    let url = error.url().map(|u| u.to_string()).unwrap_or_default();
    if error.is_timeout() {
        format!("timed out sending to {url}")
    } else if error.is_connect() {
        format!("cannot connect to {url}")
    } else {
        format!("sending to {url}: {error}")
    }
}
