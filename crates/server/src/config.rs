//! What the server needs to know, as plain values. The command line (or a test) fills it in;
//! the names and defaults of the settings are in docs/design.md, "Settings".

use std::fmt;
use std::net::SocketAddr;

use roomlog_core::FoldSettings;

/// Where the database is and how many connections to it this process may open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (the embedded default) or `postgres://…`.
    pub url: String,
    /// Most connections to PostgreSQL, or reader connections to SQLite (which always has one
    /// writer).
    pub pool: u32,
}

/// An account `serve` makes sure exists with this token (`ROOMLOG_ACCOUNT_SID` and
/// `ROOMLOG_AUTH_TOKEN`), for scripts and tests.
#[derive(Clone, PartialEq, Eq)]
pub struct SeedAccount {
    pub sid: String,
    pub auth_token: String,
}

impl fmt::Debug for SeedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedAccount").field("sid", &self.sid).field("auth_token", &"[redacted]").finish()
    }
}

/// A LiveKit API key `serve` makes sure exists (`ROOMLOG_LIVEKIT_API_KEY` and
/// `ROOMLOG_LIVEKIT_API_SECRET`), for the seeded account or else the only one.
#[derive(Clone, PartialEq, Eq)]
pub struct SeedLiveKitKey {
    pub api_key: String,
    pub api_secret: String,
}

impl fmt::Debug for SeedLiveKitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedLiveKitKey").field("api_key", &self.api_key).field("api_secret", &"[redacted]").finish()
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Port 0 picks a free port (`Application::address` tells which).
    pub listen: SocketAddr,
    pub database: DatabaseConfig,
    /// The base of every `url` and `meta` link, and the URL callback signatures are checked
    /// against. `None`: `http://` + the request's Host.
    pub public_url: Option<String>,
    /// Honour `X-Forwarded-Proto` and `X-Forwarded-Host`.
    pub trust_proxy: bool,
    /// Rooms listed when no date filter is given: those created this recently (`0` = all).
    pub default_window_ms: i64,
    pub fold: FoldSettings,
    /// How long history is kept (`0` = forever).
    pub retention_ms: i64,
    /// Memory for whole Insights answers (`0` = off); used on SQLite only.
    pub response_cache_bytes: usize,
    pub seed_account: Option<SeedAccount>,
    pub seed_livekit_key: Option<SeedLiveKitKey>,
}

impl ServerConfig {
    /// Checks what a parser cannot: a public URL must be absolute.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("--public-url {url:?} must start with http:// or https://"));
            }
        }
        Ok(())
    }
}
