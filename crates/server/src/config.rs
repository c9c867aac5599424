//! The typed settings of DESIGN.md's table: defaults, then `ROOMLOG_*` environment, then flags
//! (clap reads both), validated at load. Secrets are redacted in `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use roomlog_core::FoldSettings;

/// A duration as operators write it: `0`, `90s`, `5m`, `24h`, `7d`, or bare seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(text: &str) -> Result<Span, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 90s, 5m, 24h or 7d"))?;
        let unit_secs = match unit {
            "" | "s" => 1,
            "ms" => return Ok(Span(Duration::from_millis(number))),
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?} has an unknown unit (use s, m, h or d)")),
        };
        number
            .checked_mul(unit_secs)
            .map(|s| Span(Duration::from_secs(s)))
            .ok_or_else(|| format!("{text:?} is too long"))
    }
}

impl Span {
    pub fn millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
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
    pub default_window: Span,
    /// How long after `room-ended` a room's `processing_state` stays `in_progress`.
    #[arg(long, env = "ROOMLOG_SETTLE_WINDOW", default_value = "5m")]
    pub settle_window: Span,
    /// A room silent this long without `room-ended` is closed with `processing_state = timeout`.
    #[arg(long, env = "ROOMLOG_ROOM_TIMEOUT", default_value = "24h")]
    pub room_timeout: Span,
    /// How long history is kept (`0` = forever, the reason people run roomlog).
    #[arg(long, env = "ROOMLOG_RETENTION", default_value = "0")]
    pub retention: Span,
    /// Memory for whole Insights answers kept until the next commit, in MiB (`0` = off). Used
    /// only on SQLite, whose commits this process can see without asking the database.
    #[arg(long = "response-cache", env = "ROOMLOG_RESPONSE_CACHE", default_value_t = 16)]
    pub response_cache_mb: usize,
    /// With ROOMLOG_AUTH_TOKEN: make sure this account exists with this token.
    #[arg(long, env = "ROOMLOG_ACCOUNT_SID", hide = true)]
    pub account_sid: Option<String>,
    #[arg(long, env = "ROOMLOG_AUTH_TOKEN", hide = true)]
    pub auth_token: Option<String>,
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("public_url", &self.public_url)
            .field("trust_proxy", &self.trust_proxy)
            .field("default_window", &self.default_window)
            .field("settle_window", &self.settle_window)
            .field("room_timeout", &self.room_timeout)
            .field("retention", &self.retention)
            .field("response_cache_mb", &self.response_cache_mb)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ServeArgs {
    pub fn fold_settings(&self) -> FoldSettings {
        FoldSettings { settle_window_ms: self.settle_window.millis(), room_timeout_ms: self.room_timeout.millis() }
    }

    /// Checks what clap cannot: a public URL must be absolute, the seeded account complete.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("--public-url {url:?} must start with http:// or https://"));
            }
        }
        if self.account_sid.is_some() != self.auth_token.is_some() {
            return Err("ROOMLOG_ACCOUNT_SID and ROOMLOG_AUTH_TOKEN must be set together".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_operators_write_them() {
        assert_eq!("0".parse::<Span>().unwrap().0, Duration::ZERO);
        assert_eq!("90s".parse::<Span>().unwrap().0, Duration::from_secs(90));
        assert_eq!("5m".parse::<Span>().unwrap().0, Duration::from_secs(300));
        assert_eq!("24h".parse::<Span>().unwrap().0, Duration::from_secs(86_400));
        assert_eq!("7d".parse::<Span>().unwrap().0, Duration::from_secs(604_800));
        for bad in ["", "h", "5w", "-1h", "1.5h"] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }
}
