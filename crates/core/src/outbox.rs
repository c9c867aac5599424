//! Events out (docs/behaviour.md §6): what the outbox holds, how a message is signed, and when a
//! failed attempt is tried again. Pure: the store keeps the messages, a delivery worker sends them.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::sid::{AccountSid, RoomSid};
use crate::time::Millis;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// A Twilio status callback passed on to the application (§6.1).
    Forward,
    /// Room webhooks (§6.2).
    RoomStarted,
    RoomCompleted,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Forward => "forward",
            MessageKind::RoomStarted => "room.started",
            MessageKind::RoomCompleted => "room.completed",
        }
    }

    /// `forward` or `webhook`: the two ways out.
    pub fn channel(self) -> &'static str {
        match self {
            MessageKind::Forward => "forward",
            _ => "webhook",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageKind {
    type Err = String;
    fn from_str(text: &str) -> Result<MessageKind, String> {
        [MessageKind::Forward, MessageKind::RoomStarted, MessageKind::RoomCompleted]
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a message kind"))
    }
}

/// A room webhook endpoint of an account; its secret signs every message to it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// `we_` + 24 hex digits.
    pub id: String,
    pub account_sid: AccountSid,
    pub url: String,
    /// `whsec_` + base64 of 32 random bytes.
    pub secret: String,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("account_sid", &self.account_sid)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

impl WebhookEndpoint {
    pub fn generate(account_sid: AccountSid, url: &str) -> WebhookEndpoint {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        WebhookEndpoint {
            id: format!("we_{}", random_hex(12)),
            account_sid,
            url: url.to_owned(),
            secret: format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key)),
        }
    }
}

/// A message to queue, written in the transaction of the event that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// `msg_` + 24 hex digits: the `webhook-id` of every attempt.
    pub id: String,
    pub account_sid: AccountSid,
    pub kind: MessageKind,
    pub target: String,
    /// The endpoint whose secret signs it (room webhooks).
    pub endpoint_id: Option<String>,
    pub room_sid: RoomSid,
    /// Forwards: the callback's parameters, form-encoded. Room webhooks: `{"room": …,
    /// "participants": […]}` as stored (the `url`s are added when it is sent).
    pub body: String,
    /// Forwards: the callback's `I-Twilio-Idempotency-Token`.
    pub idempotency_token: Option<String>,
}

impl NewMessage {
    pub fn new_id() -> String {
        format!("msg_{}", random_hex(12))
    }

    /// The queue it waits in.
    pub fn target_key(&self) -> TargetKey {
        TargetKey { account_sid: self.account_sid.clone(), target: self.target.clone() }
    }
}

/// One account's target: its messages share a queue and a bound on deliveries in flight
/// (docs/behaviour.md §6.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TargetKey {
    pub account_sid: AccountSid,
    pub target: String,
}

impl TargetKey {
    /// The account and the target joined by a newline, which neither can hold: how the claim
    /// queries name a target to skip.
    pub fn joined(&self) -> String {
        format!("{}\n{}", self.account_sid, self.target)
    }
}

/// A queued message, as the delivery worker claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message: NewMessage,
    /// Queue order: deliveries to one target start in this order.
    pub seq: i64,
    pub created: Millis,
    /// Retried until then (24 h after it was queued, or re-queued), then kept as failed.
    pub expires: Millis,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Try again at this instant.
    Retry {
        at: Millis,
        error: String,
    },
    /// Kept as failed, for `roomlog outbox failed` and `outbox retry`.
    Failed {
        error: String,
    },
}

/// A failed message, or a target's state, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMessage {
    pub id: String,
    pub account_sid: AccountSid,
    pub kind: MessageKind,
    pub target: String,
    pub room_sid: RoomSid,
    pub attempts: u32,
    pub last_error: String,
}

/// Pending and failed messages of one target, and its latest error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetState {
    pub target: String,
    pub pending: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// The retry policy (docs/behaviour.md §6.3).
pub mod retry {
    use super::*;

    /// A message is retried for this long after it was queued (or re-queued), then kept as failed.
    pub const HORIZON_MS: i64 = 24 * 3600 * 1000;
    const FIRST_MS: i64 = 1000;
    const LONGEST_MS: i64 = 5 * 60 * 1000;

    /// When attempt number `attempts` (1 = the first one failed) should be followed by the next:
    /// 1 s doubling, at most 5 minutes apart, with ±20 % jitter; a `Retry-After` wins when it
    /// asks for longer (within the 5 minutes). `None` past `expires`.
    pub fn next(
        expires: Millis,
        now: Millis,
        attempts: u32,
        retry_after_ms: Option<i64>,
        jitter: f64,
    ) -> Option<Millis> {
        let exponent = attempts.saturating_sub(1).min(20);
        let backoff = (FIRST_MS << exponent).min(LONGEST_MS);
        let jittered = (backoff as f64 * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as i64;
        let wait = retry_after_ms.map_or(jittered, |asked| asked.clamp(jittered.min(LONGEST_MS), LONGEST_MS));
        let at = now.plus_ms(wait.min(LONGEST_MS));
        (at <= expires).then_some(at)
    }
}

/// The Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(secret, id.timestamp.body)), the
/// key being the base64 after `whsec_`.
pub fn standard_webhook_signature(secret: &str, id: &str, timestamp_secs: i64, body: &str) -> Option<String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// A room webhook's body: `{"type", "timestamp", "data": {"room": …, "participants": […]}}`, the
/// room and participants rendered as the Insights API serves them under `base`.
pub fn room_webhook_body(kind: MessageKind, created: Millis, base: &str, stored: &str) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Stored<'a> {
        #[serde(borrow)]
        room: &'a serde_json::value::RawValue,
        #[serde(default, borrow)]
        participants: Vec<&'a serde_json::value::RawValue>,
    }
    let stored: Stored<'_> =
        serde_json::from_str(stored).map_err(|e| format!("a stored message is unreadable: {e}"))?;
    let room = crate::summary::StoredJson(stored.room.get().to_owned());
    let room_sid: String = serde_json::from_str::<serde_json::Value>(stored.room.get())
        .ok()
        .and_then(|v| v["room_sid"].as_str().map(str::to_owned))
        .ok_or("a stored room has no room_sid")?;
    let mut out = String::with_capacity(stored.room.get().len() * 2);
    out.push_str("{\"type\":");
    crate::summary::push_json_string(&mut out, kind.as_str());
    out.push_str(",\"timestamp\":");
    crate::summary::push_json_string(&mut out, &created.to_rfc3339_millis());
    out.push_str(",\"data\":{\"room\":");
    crate::summary::render_room(&mut out, base, &room_sid, &room);
    if kind == MessageKind::RoomCompleted {
        out.push_str(",\"participants\":[");
        for (i, participant) in stored.participants.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let json = crate::summary::StoredJson(participant.get().to_owned());
            let sid = serde_json::from_str::<serde_json::Value>(participant.get())
                .ok()
                .and_then(|v| v["participant_sid"].as_str().map(str::to_owned))
                .ok_or("a stored participant has no participant_sid")?;
            crate::summary::render_participant(&mut out, base, &room_sid, &sid, &json);
        }
        out.push(']');
    }
    out.push_str("}}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let signature = standard_webhook_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn retries_back_off_to_five_minutes_honour_retry_after_and_stop_after_a_day() {
        let expires = Millis(retry::HORIZON_MS);
        let at = |attempts, after| retry::next(expires, Millis(1000), attempts, after, 0.5).unwrap().0 - 1000;
        assert_eq!(at(1, None), 1000);
        assert_eq!(at(2, None), 2000);
        assert_eq!(at(10, None), 300_000);
        assert_eq!(at(1, Some(30_000)), 30_000, "Retry-After asks for longer");
        assert_eq!(at(1, Some(3_600_000)), 300_000, "but no longer than 5 minutes");
        assert!(retry::next(expires, Millis(retry::HORIZON_MS), 3, None, 0.5).is_none(), "past 24 h: failed");
        let low = retry::next(expires, Millis(0), 3, None, 0.0).unwrap().0;
        let high = retry::next(expires, Millis(0), 3, None, 1.0).unwrap().0;
        assert!((3200..=4800).contains(&low) && (3200..=4800).contains(&high) && low < high, "jitter ±20 %");
    }

    #[test]
    fn a_completed_room_webhook_carries_the_room_and_its_participants_as_served() {
        let stored = r#"{"room":{"room_sid":"RM00000000000000000000000000000001","room_name":"a"},"participants":[{"participant_sid":"PA00000000000000000000000000000001"}]}"#;
        let body = room_webhook_body(MessageKind::RoomCompleted, Millis(0), "http://h", stored).unwrap();
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["type"], "room.completed");
        assert_eq!(value["timestamp"], "1970-01-01T00:00:00.000Z");
        let room = &value["data"]["room"];
        assert_eq!(room["url"], "http://h/v1/Video/Rooms/RM00000000000000000000000000000001");
        assert_eq!(
            room["links"]["participants"],
            "http://h/v1/Video/Rooms/RM00000000000000000000000000000001/Participants"
        );
        let participant = &value["data"]["participants"][0];
        assert_eq!(
            participant["url"],
            "http://h/v1/Video/Rooms/RM00000000000000000000000000000001/Participants/PA00000000000000000000000000000001"
        );
        let started = room_webhook_body(MessageKind::RoomStarted, Millis(0), "http://h", stored).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&started).unwrap()["data"].get("participants").is_none());
    }
}
