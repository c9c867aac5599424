//! The flags the client commands share: where the API is and who asks (docs/design.md,
//! "Settings"), the list filters of docs/behaviour.md §2 (also used by `export`), paging and the
//! output format.

use std::io::IsTerminal;
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use roomlog_core::{Codec, Millis, RoomFilter, RoomType};

use roomlog_client::output::Format;
use roomlog_client::{Credentials, InsightsClient, RetryPolicy};

use crate::settings::DurationArg;

#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// The Insights API to read: this server, or https://insights.twilio.com.
    #[arg(long, env = "ROOMLOG_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Account SID (AC…) or API key SID (SK…). Default: ROOMLOG_ACCOUNT_SID, else TWILIO_ACCOUNT_SID.
    #[arg(long)]
    pub account_sid: Option<String>,
    /// Auth token or API key secret. Default: ROOMLOG_AUTH_TOKEN, else TWILIO_AUTH_TOKEN.
    #[arg(long)]
    pub auth_token: Option<String>,
}

impl ServerArgs {
    /// Flags first, then the `ROOMLOG_*` pair, then the `TWILIO_*` pair (docs/design.md, "Settings").
    pub fn credentials(&self) -> anyhow::Result<Credentials> {
        let pair = |sid: &str, token: &str| Some((std::env::var(sid).ok()?, std::env::var(token).ok()?));
        let from_env = pair("ROOMLOG_ACCOUNT_SID", "ROOMLOG_AUTH_TOKEN")
            .or_else(|| pair("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"))
            .unzip();
        match (self.account_sid.clone().or(from_env.0), self.auth_token.clone().or(from_env.1)) {
            (Some(username), Some(secret)) if !username.is_empty() && !secret.is_empty() => {
                Ok(Credentials { username, secret })
            }
            _ => anyhow::bail!(
                "no credentials: set ROOMLOG_ACCOUNT_SID and ROOMLOG_AUTH_TOKEN (or TWILIO_ACCOUNT_SID and \
                 TWILIO_AUTH_TOKEN), or pass --account-sid and --auth-token"
            ),
        }
    }

    pub fn client(&self) -> anyhow::Result<InsightsClient> {
        // An interactive command gives up sooner than the importer.
        let retry = RetryPolicy { attempts: 4, ..RetryPolicy::default() };
        InsightsClient::new(&self.url, self.credentials()?, retry)
    }
}

/// A date as RFC 3339 (or any form the API accepts), or an age back from now: `7d`, `12h`, `30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateArg(pub Millis);

impl FromStr for DateArg {
    type Err = String;
    fn from_str(text: &str) -> Result<DateArg, String> {
        if let Ok(span) = text.parse::<DurationArg>() {
            if text.trim().ends_with(|c: char| c.is_ascii_alphabetic()) {
                return Ok(DateArg(Millis::now().plus_ms(-span.millis())));
            }
        }
        Millis::parse_lenient(text)
            .map(DateArg)
            .map_err(|_| format!("{text:?} is neither a date (2025-10-27T18:16:01Z) nor an age (7d, 12h, 30m)"))
    }
}

/// The rooms listing's filters (docs/behaviour.md §2), as flags.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only rooms of this type (repeatable: any of them).
    #[arg(long, value_name = "TYPE")]
    pub room_type: Vec<RoomType>,
    /// Only rooms that used this codec (repeatable: any of them).
    #[arg(long, value_name = "CODEC")]
    pub codec: Vec<Codec>,
    /// Only rooms with exactly this name.
    #[arg(long, value_name = "NAME")]
    pub room_name: Option<String>,
    /// Rooms created at or after this date, or this long ago (`7d`, `12h`).
    #[arg(long, value_name = "DATE")]
    pub created_after: Option<DateArg>,
    /// Rooms created before this date, or before this long ago.
    #[arg(long, value_name = "DATE")]
    pub created_before: Option<DateArg>,
}

impl FilterArgs {
    pub fn filter(&self) -> RoomFilter {
        let mut room_types = self.room_type.clone();
        room_types.sort_unstable();
        room_types.dedup();
        RoomFilter {
            room_types,
            codecs: self.codec.iter().copied().collect(),
            room_name: self.room_name.clone(),
            created_after: self.created_after.map(|d| d.0),
            created_before: self.created_before.map(|d| d.0),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format; default: table on a terminal, json otherwise.
    #[arg(long, value_parser = format_parser())]
    pub format: Option<Format>,
}

/// The output formats as clap shows and checks them (listed in `--help`).
fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::NAMES).map(|name| name.parse().expect("a listed format name parses"))
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        self.format.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

#[derive(Args, Debug, Clone)]
pub struct PagingArgs {
    /// Most items to show (0: all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Items per request (the API clamps it to 1000). Default: the limit, at most 1000.
    #[arg(long)]
    pub page_size: Option<u32>,
}

impl PagingArgs {
    pub fn page_size(&self) -> u32 {
        let from_limit = if self.limit == 0 { 1000 } else { self.limit.min(1000) as u32 };
        self.page_size.unwrap_or(from_limit).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_absolute_or_ages_back_from_now() {
        let absolute: DateArg = "2025-10-27T18:16:01Z".parse().unwrap();
        assert_eq!(absolute.0.to_api_string(), "2025-10-27T18:16:01Z");
        assert_eq!("2025-10-27".parse::<DateArg>().unwrap().0.to_api_string(), "2025-10-27T00:00:00Z");
        let week: DateArg = "7d".parse().unwrap();
        let expected = Millis::now().plus_ms(-7 * 86_400_000);
        assert!((week.0 .0 - expected.0).abs() < 5_000, "7d is a week ago");
        for bad in ["yesterday", "7w", "12", ""] {
            assert!(bad.parse::<DateArg>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_page_size_follows_the_limit_within_the_api_maximum() {
        let paging = |limit, page_size| PagingArgs { limit, page_size };
        assert_eq!(paging(50, None).page_size(), 50);
        assert_eq!(paging(0, None).page_size(), 1000);
        assert_eq!(paging(5000, None).page_size(), 1000);
        assert_eq!(paging(50, Some(7)).page_size(), 7);
    }
}
