//! Verified credentials kept briefly, so authenticated reads do not query the store each time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roomlog_core::account::{Account, ApiKey, LiveKitKey};

pub enum Credential {
    Account(Account),
    Key(ApiKey),
    /// Cached under `livekit:` + its key, apart from account and key SIDs.
    LiveKit(LiveKitKey),
}

impl Credential {
    /// How long it is trusted before it is read again: a removed LiveKit key must stop working
    /// within seconds (docs/behaviour.md §4.4).
    fn ttl(&self) -> Duration {
        match self {
            Credential::LiveKit(_) => LIVEKIT_TTL,
            _ => TTL,
        }
    }
}

/// Positive-only cache: a new credential is looked up at once; a known one is re-read after
/// its TTL, so a rotated token takes effect within that time on every node.
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<String, (Instant, std::sync::Arc<Credential>)>>,
}

const TTL: Duration = Duration::from_secs(30);
const LIVEKIT_TTL: Duration = Duration::from_secs(3);

impl CredentialCache {
    pub fn get(&self, username: &str) -> Option<std::sync::Arc<Credential>> {
        let entries = self.entries.lock().ok()?;
        entries.get(username).filter(|(at, c)| at.elapsed() < c.ttl()).map(|(_, c)| c.clone())
    }

    pub fn put(&self, username: &str, credential: Credential) -> std::sync::Arc<Credential> {
        let credential = std::sync::Arc::new(credential);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(username.to_owned(), (Instant::now(), credential.clone()));
        }
        credential
    }
}
