//! The outbox for both SQL backends (docs/behaviour.md §6): the statements, the rows, and which
//! messages an ingest step queues. Messages are queued in the write transaction of the events
//! that cause them; a delivery worker claims them under a lease.

use roomlog_core::fold::update::Announce;
use roomlog_core::outbox::{
    retry, Attempt, FailedMessage, Message, MessageKind, NewMessage, TargetKey, TargetState, WebhookEndpoint,
};
use roomlog_core::{AccountEvent, AccountSid, Millis, RoomSid, StoreError, StoredJson};

/// Statements both dialects accept, with `?` placeholders (`numbered` turns them into `$n`),
/// except the claim, which differs.
pub mod statements {
    pub const FORWARD_TARGETS: &str = "SELECT url FROM forward_targets WHERE account_sid = ? ORDER BY position";
    pub const CLEAR_FORWARD_TARGETS: &str = "DELETE FROM forward_targets WHERE account_sid = ?";
    pub const INSERT_FORWARD_TARGET: &str = "INSERT INTO forward_targets (account_sid, position, url) VALUES (?, ?, ?)";
    pub const INSERT_ENDPOINT: &str =
        "INSERT INTO webhook_endpoints (id, account_sid, url, secret, created_ms) VALUES (?, ?, ?, ?, ?)";
    pub const ACCOUNT_ENDPOINTS: &str =
        "SELECT id, account_sid, url, secret FROM webhook_endpoints WHERE account_sid = ? ORDER BY created_ms, id";
    pub const ALL_ENDPOINTS: &str =
        "SELECT id, account_sid, url, secret FROM webhook_endpoints ORDER BY account_sid, created_ms, id";
    pub const ENDPOINT: &str = "SELECT id, account_sid, url, secret FROM webhook_endpoints WHERE id = ?";
    pub const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = ?";
    /// Binds the columns of a new message in `NewMessage` order, then created, expires.
    pub const ENQUEUE: &str = "INSERT INTO outbox (id, account_sid, kind, target, endpoint_id, room_sid, body,
         idempotency_token, created_ms, expires_ms, state, attempts, next_attempt_ms, lease_until_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0)";
    /// The columns `MessageRow` reads, in order.
    pub const MESSAGE_COLUMNS: &str = "seq, id, account_sid, kind, target, endpoint_id, room_sid, body,
         idempotency_token, created_ms, expires_ms, attempts, last_error";
    /// Binds holder, lease end, now, per-target cap, limit, and the targets to skip (a JSON
    /// array of `TargetKey::joined`). At most the cap of each target's due messages is claimed
    /// at a time, so a target with a long backlog cannot fill a claim and hold back the others,
    /// and none of a target whose queue is full (docs/behaviour.md §6.3). SQLite runs one
    /// writer, so a plain update is a claim.
    pub const CLAIM_SQLITE: &str = "UPDATE outbox SET lease_holder = ?1, lease_until_ms = ?2
         WHERE seq IN (SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY account_sid, target ORDER BY seq) AS n
                                        FROM outbox WHERE state = 'pending' AND next_attempt_ms <= ?3
                                        AND lease_until_ms <= ?3
                                        AND account_sid || char(10) || target NOT IN (SELECT value FROM json_each(?6)))
                       WHERE n <= ?4 ORDER BY seq LIMIT ?5)
         RETURNING seq, id, account_sid, kind, target, endpoint_id, room_sid, body,
                   idempotency_token, created_ms, expires_ms, attempts, last_error";
    /// The same for PostgreSQL (the targets to skip as a text array), where nodes claim
    /// concurrently: rows another node is claiming are skipped, never waited for, and rechecked
    /// once locked.
    pub const CLAIM_POSTGRES: &str = "UPDATE outbox SET lease_holder = $1, lease_until_ms = $2
         WHERE seq IN (SELECT seq FROM outbox
                       WHERE seq IN (SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY account_sid, target ORDER BY seq) AS n
                                                      FROM outbox WHERE state = 'pending' AND next_attempt_ms <= $3
                                                      AND lease_until_ms <= $3
                                                      AND NOT (account_sid || chr(10) || target = ANY($6))) AS due
                                     WHERE n <= $4 ORDER BY seq LIMIT $5)
                       AND state = 'pending' AND lease_until_ms <= $3
                       FOR UPDATE SKIP LOCKED)
         RETURNING seq, id, account_sid, kind, target, endpoint_id, room_sid, body,
                   idempotency_token, created_ms, expires_ms, attempts, last_error";
    /// Binds id, holder.
    pub const DELIVERED: &str = "DELETE FROM outbox WHERE id = ? AND lease_holder = ?";
    /// Binds next attempt, error, id, holder.
    pub const RETRY: &str = "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ?,
         lease_holder = NULL, lease_until_ms = 0 WHERE id = ? AND lease_holder = ?";
    /// Binds error, id, holder.
    pub const FAILED: &str = "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,
         lease_holder = NULL, lease_until_ms = 0 WHERE id = ? AND lease_holder = ?";
    /// Binds id, holder.
    pub const RELEASE: &str =
        "UPDATE outbox SET lease_holder = NULL, lease_until_ms = 0 WHERE id = ? AND lease_holder = ?";
    /// Binds account, target, error, at (error and at null on success), delivered at.
    pub const TARGET_OUTCOME: &str =
        "INSERT INTO outbox_targets (account_sid, target, last_error, last_error_ms, last_delivered_ms)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_sid, target) DO UPDATE SET
           last_error = COALESCE(excluded.last_error, outbox_targets.last_error),
           last_error_ms = COALESCE(excluded.last_error_ms, outbox_targets.last_error_ms),
           last_delivered_ms = COALESCE(excluded.last_delivered_ms, outbox_targets.last_delivered_ms)";
    pub const FAILED_MESSAGES: &str = "SELECT id, account_sid, kind, target, room_sid, attempts, last_error
         FROM outbox WHERE state = 'failed' ORDER BY seq";
    /// Binds now, expires, then the id (`RETRY_ONE`) or nothing (`RETRY_ALL`).
    pub const RETRY_ALL: &str = "UPDATE outbox SET state = 'pending', next_attempt_ms = ?, expires_ms = ?,
         lease_holder = NULL, lease_until_ms = 0 WHERE state = 'failed'";
    pub const RETRY_ONE: &str = "UPDATE outbox SET state = 'pending', next_attempt_ms = ?, expires_ms = ?,
         lease_holder = NULL, lease_until_ms = 0 WHERE state = 'failed' AND id = ?";
    /// Binds the account five times; returns target, pending, failed, last error of every
    /// target the account has messages or outcomes for.
    pub const TARGET_STATES: &str = "SELECT k.target,
           (SELECT COUNT(*) FROM outbox o WHERE o.account_sid = ? AND o.target = k.target AND o.state = 'pending'),
           (SELECT COUNT(*) FROM outbox o WHERE o.account_sid = ? AND o.target = k.target AND o.state = 'failed'),
           (SELECT t.last_error FROM outbox_targets t WHERE t.account_sid = ? AND t.target = k.target)
         FROM (SELECT target FROM outbox WHERE account_sid = ?
               UNION SELECT target FROM outbox_targets WHERE account_sid = ?) AS k
         ORDER BY k.target";
    pub const PENDING: &str = "SELECT COUNT(*) FROM outbox WHERE state = 'pending'";
}

/// An `outbox` row as the claim returns it, columns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub seq: i64,
    pub id: String,
    pub account_sid: String,
    pub kind: String,
    pub target: String,
    pub endpoint_id: Option<String>,
    pub room_sid: String,
    pub body: String,
    pub idempotency_token: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(error.to_string().into())
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(row: MessageRow) -> Result<Message, StoreError> {
        Ok(Message {
            message: NewMessage {
                id: row.id,
                account_sid: row.account_sid.parse().map_err(corrupt)?,
                kind: row.kind.parse().map_err(corrupt)?,
                target: row.target,
                endpoint_id: row.endpoint_id,
                room_sid: row.room_sid.parse().map_err(corrupt)?,
                body: row.body,
                idempotency_token: row.idempotency_token,
            },
            seq: row.seq,
            created: Millis(row.created_ms),
            expires: Millis(row.expires_ms),
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            last_error: row.last_error,
        })
    }
}

/// A `webhook_endpoints` row, columns in order.
pub struct EndpointRow {
    pub id: String,
    pub account_sid: String,
    pub url: String,
    pub secret: String,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;
    fn try_from(row: EndpointRow) -> Result<WebhookEndpoint, StoreError> {
        Ok(WebhookEndpoint {
            id: row.id,
            account_sid: row.account_sid.parse().map_err(corrupt)?,
            url: row.url,
            secret: row.secret,
        })
    }
}

/// A failed message row (`statements::FAILED_MESSAGES`), columns in order.
pub struct FailedRow {
    pub id: String,
    pub account_sid: String,
    pub kind: String,
    pub target: String,
    pub room_sid: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl TryFrom<FailedRow> for FailedMessage {
    type Error = StoreError;
    fn try_from(row: FailedRow) -> Result<FailedMessage, StoreError> {
        Ok(FailedMessage {
            id: row.id,
            account_sid: row.account_sid.parse().map_err(corrupt)?,
            kind: row.kind.parse().map_err(corrupt)?,
            target: row.target,
            room_sid: row.room_sid.parse().map_err(corrupt)?,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            last_error: row.last_error.unwrap_or_default(),
        })
    }
}

pub fn target_state(target: String, pending: i64, failed: i64, last_error: Option<String>) -> TargetState {
    TargetState { target, pending: pending.max(0) as u64, failed: failed.max(0) as u64, last_error }
}

/// What recording one attempt writes: `statement` binds `next_attempt` if there is one, then
/// `error` if there is one, then the message id and the holder; `TARGET_OUTCOME` then binds the
/// account, the target, `error`, `error_at` and `delivered_at`.
pub struct Recorded<'a> {
    pub statement: &'static str,
    pub next_attempt: Option<i64>,
    pub error: Option<&'a str>,
    pub error_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

pub fn recorded(attempt: &Attempt, now: Millis) -> Recorded<'_> {
    let (statement, next_attempt, error) = match attempt {
        Attempt::Delivered => (statements::DELIVERED, None, None),
        Attempt::Retry { at, error } => (statements::RETRY, Some(at.0), Some(error.as_str())),
        Attempt::Failed { error } => (statements::FAILED, None, Some(error.as_str())),
    };
    Recorded {
        statement,
        next_attempt,
        error,
        error_at: error.map(|_| now.0),
        delivered_at: error.is_none().then_some(now.0),
    }
}

/// The targets a claim skips, as the claim statements bind them.
pub fn skipped(skip: &[TargetKey]) -> Vec<String> {
    skip.iter().map(TargetKey::joined).collect()
}

/// When a queued message expires.
pub fn expires(now: Millis) -> Millis {
    now.plus_ms(retry::HORIZON_MS)
}

/// The forwards of a new callback: one per target of its account.
pub fn forwards(event: &AccountEvent, targets: &[String]) -> Vec<NewMessage> {
    let Some(relay) = &event.relay else { return Vec::new() };
    targets
        .iter()
        .map(|target| NewMessage {
            id: NewMessage::new_id(),
            account_sid: event.account_sid.clone(),
            kind: MessageKind::Forward,
            target: target.clone(),
            endpoint_id: None,
            room_sid: event.event.room_sid.clone(),
            body: relay.form.clone(),
            idempotency_token: relay.idempotency_token.clone(),
        })
        .collect()
}

/// The room webhooks a room's update announces (`room_json` is its new summary), one per
/// endpoint of its account.
pub fn announcements(
    account: &AccountSid,
    room: &RoomSid,
    announce: &Announce,
    room_json: &StoredJson,
    endpoints: &[(String, String)],
) -> Vec<NewMessage> {
    let mut bodies = Vec::new();
    if announce.started {
        bodies.push((MessageKind::RoomStarted, stored_body(room_json, &[])));
    }
    if let Some(completed) = &announce.completed {
        let participants: Vec<StoredJson> = completed.participants.iter().map(StoredJson::of).collect();
        bodies.push((MessageKind::RoomCompleted, stored_body(room_json, &participants)));
    }
    bodies
        .into_iter()
        .flat_map(|(kind, body)| {
            endpoints.iter().map(move |(id, url)| NewMessage {
                id: NewMessage::new_id(),
                account_sid: account.clone(),
                kind,
                target: url.clone(),
                endpoint_id: Some(id.clone()),
                room_sid: room.clone(),
                body: body.clone(),
                idempotency_token: None,
            })
        })
        .collect()
}

fn stored_body(room: &StoredJson, participants: &[StoredJson]) -> String {
    let mut out = String::with_capacity(room.0.len() + participants.iter().map(|p| p.0.len() + 1).sum::<usize>() + 32);
    out.push_str("{\"room\":");
    out.push_str(&room.0);
    out.push_str(",\"participants\":[");
    for (i, participant) in participants.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&participant.0);
    }
    out.push_str("]}");
    out
}
