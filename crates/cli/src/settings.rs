//! The typed settings of docs/design.md, "Settings": defaults, then `ROOMLOG_*` environment, then
//! flags (clap reads both), validated at load and turned into the server's `ServerConfig`.
//! Secrets are redacted in `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use roomlog_client::import::schedule::Schedule;
use roomlog_client::import::ImportOptions;
use roomlog_client::Credentials;
use roomlog_core::AccountSid;
use roomlog_core::FoldSettings;
use roomlog_server::config::{DatabaseConfig, SeedAccount, SeedLiveKitKey, ServerConfig};

/// A duration as operators write it: `0`, `90s`, `5m`, `24h`, `7d`, or bare seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationArg(pub Duration);

impl std::str::FromStr for DurationArg {
    type Err = String;
    fn from_str(text: &str) -> Result<DurationArg, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 90s, 5m, 24h or 7d"))?;
        let unit_secs = match unit {
            "" | "s" => 1,
            "ms" => return Ok(DurationArg(Duration::from_millis(number))),
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?} has an unknown unit (use s, m, h or d)")),
        };
        number
            .checked_mul(unit_secs)
            .map(|s| DurationArg(Duration::from_secs(s)))
            .ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl DurationArg {
    pub fn millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

/// The lifecycle settings shared by `serve`, `rebuild` and `demo`.
#[derive(Args, Debug, Clone, Copy)]
pub struct FoldArgs {
    /// How long after `room-ended` a room's `processing_state` stays `in_progress`.
    #[arg(long, env = "ROOMLOG_SETTLE_WINDOW", default_value = "5m")]
    pub settle_window: DurationArg,
    /// A room silent this long without `room-ended` is closed with `processing_state = timeout`.
    #[arg(long, env = "ROOMLOG_ROOM_TIMEOUT", default_value = "24h")]
    pub room_timeout: DurationArg,
}

impl FoldArgs {
    pub fn settings(&self) -> FoldSettings {
        FoldSettings { settle_window_ms: self.settle_window.millis(), room_timeout_ms: self.room_timeout.millis() }
    }
}

/// Where the database is; shared by every command that opens the store.
#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (the embedded default) or `postgres://…`.
    #[arg(long, env = "ROOMLOG_DATABASE_URL", default_value = "sqlite://roomlog.db")]
    pub database_url: String,
    /// Most connections this process opens to the database (PostgreSQL), or reader
    /// connections (SQLite, which always has one writer).
    #[arg(long, env = "ROOMLOG_DATABASE_POOL", default_value_t = 8)]
    pub database_pool: u32,
}

impl DatabaseArgs {
    pub fn config(&self) -> DatabaseConfig {
        DatabaseConfig { url: self.database_url.clone(), pool: self.database_pool }
    }
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, env = "ROOMLOG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The base URL clients reach this server at, used in every `url` and `meta` link and to
    /// verify callback signatures. Default: `http://` + the request's Host.
    #[arg(long, env = "ROOMLOG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Honour X-Forwarded-Proto and X-Forwarded-Host (only behind a proxy you control).
    #[arg(long, env = "ROOMLOG_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,
    /// Rooms listed when no date filter is given: those created within this window (`0` = all).
    #[arg(long, env = "ROOMLOG_DEFAULT_WINDOW", default_value = "24h")]
    pub default_window: DurationArg,
    #[command(flatten)]
    pub fold: FoldArgs,
    /// How long history is kept (`0` = forever, the reason people run roomlog).
    #[arg(long, env = "ROOMLOG_RETENTION", default_value = "0")]
    pub retention: DurationArg,
    /// Memory for whole Insights answers kept until the next commit, in MiB (`0` = off). Used
    /// only on SQLite, whose commits this process can see without asking the database.
    #[arg(long = "response-cache", env = "ROOMLOG_RESPONSE_CACHE", default_value_t = 16)]
    pub response_cache_mb: usize,
    /// With ROOMLOG_AUTH_TOKEN: make sure this account exists with this token.
    #[arg(long, env = "ROOMLOG_ACCOUNT_SID", hide = true)]
    pub account_sid: Option<String>,
    #[arg(long, env = "ROOMLOG_AUTH_TOKEN", hide = true)]
    pub auth_token: Option<String>,
    /// With ROOMLOG_LIVEKIT_API_SECRET: make sure this LiveKit key exists for the account of
    /// ROOMLOG_ACCOUNT_SID (else the only account).
    #[arg(long, env = "ROOMLOG_LIVEKIT_API_KEY", hide = true)]
    pub livekit_api_key: Option<String>,
    #[arg(long, env = "ROOMLOG_LIVEKIT_API_SECRET", hide = true)]
    pub livekit_api_secret: Option<String>,
    /// How long a node holds an outbox message it claimed before another node may send it
    /// (docs/operations.md, "Events out"); keep it well above the 10 s delivery timeout.
    #[arg(long, env = "ROOMLOG_OUTBOX_LEASE", default_value = "60s")]
    pub outbox_lease: DurationArg,
    #[command(flatten)]
    pub import: ScheduledImportArgs,
}

/// `serve --import-from …`: keep importing from a Twilio-compatible Insights API on a schedule
/// (docs/operations.md, "Continuous import").
#[derive(clap::Args, Clone)]
pub struct ScheduledImportArgs {
    /// Import from this Insights API on a schedule (https://insights.twilio.com, or another
    /// roomlog); one node at a time on a shared database. Off by default.
    #[arg(long, env = "ROOMLOG_IMPORT_FROM", value_name = "URL")]
    pub import_from: Option<String>,
    /// The upstream account SID (AC…) or API key SID (SK…).
    #[arg(long, env = "ROOMLOG_IMPORT_ACCOUNT_SID")]
    pub import_account_sid: Option<String>,
    /// The upstream auth token, or the API key's secret.
    #[arg(long, env = "ROOMLOG_IMPORT_AUTH_TOKEN", hide_env_values = true)]
    pub import_auth_token: Option<String>,
    /// Time between the starts of two runs (a failed run is retried sooner).
    #[arg(long, env = "ROOMLOG_IMPORT_EVERY", default_value = "1h")]
    pub import_every: DurationArg,
    /// The local account the rooms go to. Default: the upstream account if it exists here,
    /// else the only account.
    #[arg(long, env = "ROOMLOG_IMPORT_INTO_ACCOUNT", value_name = "AC…")]
    pub into_account: Option<AccountSid>,
    /// How long after its creation a room may first appear upstream; every run looks again
    /// at rooms created this recently.
    #[arg(long, env = "ROOMLOG_IMPORT_LATE_ARRIVALS", default_value = "25h")]
    pub import_late_arrivals: DurationArg,
}

impl fmt::Debug for ScheduledImportArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduledImportArgs")
            .field("import_from", &self.import_from)
            .field("import_account_sid", &self.import_account_sid)
            .field("import_auth_token", &self.import_auth_token.as_ref().map(|_| "[redacted]"))
            .field("import_every", &self.import_every)
            .field("into_account", &self.into_account)
            .field("import_late_arrivals", &self.import_late_arrivals)
            .finish()
    }
}

impl ScheduledImportArgs {
    /// The schedule, if `--import-from` is set; the credentials must come with it.
    pub fn schedule(&self) -> Result<Option<Schedule>, String> {
        let Some(from) = &self.import_from else { return Ok(None) };
        let (Some(username), Some(secret)) = (&self.import_account_sid, &self.import_auth_token) else {
            return Err("--import-from needs --import-account-sid and --import-auth-token \
                        (ROOMLOG_IMPORT_ACCOUNT_SID, ROOMLOG_IMPORT_AUTH_TOKEN)"
                .into());
        };
        if self.import_every.millis() < 1000 {
            return Err("--import-every must be at least 1s".into());
        }
        let options = ImportOptions {
            from: from.clone(),
            credentials: Credentials { username: username.clone(), secret: secret.clone() },
            into_account: self.into_account.clone(),
            created_after: None,
            created_before: None,
            concurrency: 8,
            page_size: 1000,
            attempts: 5,
            backoff: std::time::Duration::from_millis(500),
            restart: false,
            late_arrivals: self.import_late_arrivals.0,
        };
        Ok(Some(Schedule { options, every: self.import_every.0 }))
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("public_url", &self.public_url)
            .field("trust_proxy", &self.trust_proxy)
            .field("default_window", &self.default_window)
            .field("fold", &self.fold)
            .field("retention", &self.retention)
            .field("response_cache_mb", &self.response_cache_mb)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "[redacted]"))
            .field("livekit_api_key", &self.livekit_api_key)
            .field("livekit_api_secret", &self.livekit_api_secret.as_ref().map(|_| "[redacted]"))
            .field("outbox_lease", &self.outbox_lease)
            .field("import", &self.import)
            .finish()
    }
}

impl ServeArgs {
    /// The server's configuration, after the checks clap cannot make.
    pub fn server_config(&self) -> Result<ServerConfig, String> {
        let seed_account = match (&self.account_sid, &self.auth_token) {
            (Some(sid), Some(auth_token)) => Some(SeedAccount { sid: sid.clone(), auth_token: auth_token.clone() }),
            (None, None) => None,
            _ => return Err("ROOMLOG_ACCOUNT_SID and ROOMLOG_AUTH_TOKEN must be set together".into()),
        };
        let seed_livekit_key = match (&self.livekit_api_key, &self.livekit_api_secret) {
            (Some(api_key), Some(api_secret)) => {
                Some(SeedLiveKitKey { api_key: api_key.clone(), api_secret: api_secret.clone() })
            }
            (None, None) => None,
            _ => return Err("ROOMLOG_LIVEKIT_API_KEY and ROOMLOG_LIVEKIT_API_SECRET must be set together".into()),
        };
        let config = ServerConfig {
            listen: self.listen,
            database: self.database.config(),
            public_url: self.public_url.clone(),
            trust_proxy: self.trust_proxy,
            default_window_ms: self.default_window.millis(),
            fold: self.fold.settings(),
            retention_ms: self.retention.millis(),
            response_cache_bytes: self.response_cache_mb.saturating_mul(1 << 20),
            seed_account,
            seed_livekit_key,
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_operators_write_them() {
        assert_eq!("0".parse::<DurationArg>().unwrap().0, Duration::ZERO);
        assert_eq!("90s".parse::<DurationArg>().unwrap().0, Duration::from_secs(90));
        assert_eq!("5m".parse::<DurationArg>().unwrap().0, Duration::from_secs(300));
        assert_eq!("24h".parse::<DurationArg>().unwrap().0, Duration::from_secs(86_400));
        assert_eq!("7d".parse::<DurationArg>().unwrap().0, Duration::from_secs(604_800));
        for bad in ["", "h", "5w", "-1h", "1.5h"] {
            assert!(bad.parse::<DurationArg>().is_err(), "{bad}");
        }
    }
}
