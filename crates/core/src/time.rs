//! Instants: events keep milliseconds, the API speaks whole seconds as `YYYY-MM-DDTHH:MM:SSZ`
//! (BEHAVIOUR §1, §5); filter dates are read leniently (BEHAVIOUR §2).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date-time (expected ISO 8601, e.g. 2025-10-27T18:16:01Z)")]
pub struct TimeError(pub String);

// Twilio's timestamps never predate 2000 nor reach 10000; the bounds keep arithmetic and
// formatting total on hostile input.
const MIN_MS: i64 = 0;
const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

impl Millis {
    pub fn now() -> Millis {
        Millis(Utc::now().timestamp_millis())
    }

    pub fn from_secs(secs: i64) -> Millis {
        Millis(secs.saturating_mul(1000))
    }

    /// Whole seconds, truncated toward the past: the API's precision.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn truncated(self) -> Millis {
        Millis::from_secs(self.secs())
    }

    pub fn plus_ms(self, ms: i64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Whole seconds from `earlier` to `self`, rounded down, never negative.
    pub fn whole_secs_since(self, earlier: Millis) -> i64 {
        (self.0.saturating_sub(earlier.0)).max(0) / 1000
    }

    fn checked(ms: i64, text: &str) -> Result<Millis, TimeError> {
        if (MIN_MS..=MAX_MS).contains(&ms) {
            Ok(Millis(ms))
        } else {
            Err(TimeError(text.chars().take(64).collect()))
        }
    }

    /// Reads a date-time the way clients send them: RFC 3339 with or without fractional
    /// seconds, `Z` or an offset, a space where a `+` was form-decoded, `T` or a space between
    /// date and time, or a bare `YYYY-MM-DD` meaning midnight UTC.
    pub fn parse_lenient(text: &str) -> Result<Millis, TimeError> {
        let error = || TimeError(text.chars().take(64).collect());
        let trimmed = text.trim();
        if trimmed.len() < 10 || trimmed.len() > 40 {
            return Err(error());
        }
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(error)?;
            return Self::checked(Utc.from_utc_datetime(&midnight).timestamp_millis(), text);
        }
        // A decoded '+' becomes a space: "…T10:00:00 02:00" means "+02:00".
        let mut repaired = trimmed.to_owned();
        if let Some(pos) = repaired.rfind(' ') {
            if pos > 10 && repaired[pos + 1..].len() == 5 && repaired.as_bytes()[pos + 3] == b':' {
                repaired.replace_range(pos..pos + 1, "+");
            }
        }
        if repaired.len() > 10 && repaired.as_bytes()[10] == b' ' {
            repaired.replace_range(10..11, "T");
        }
        if let Ok(instant) = DateTime::parse_from_rfc3339(&repaired) {
            return Self::checked(instant.timestamp_millis(), text);
        }
        // No zone at all: read as UTC.
        if let Ok(naive) = NaiveDateTime::parse_from_str(&repaired, "%Y-%m-%dT%H:%M:%S%.f") {
            return Self::checked(Utc.from_utc_datetime(&naive).timestamp_millis(), text);
        }
        Err(error())
    }

    fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0.clamp(MIN_MS, MAX_MS)).single().unwrap_or_default()
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the only form twilio-python parses (BEHAVIOUR §1).
    pub fn to_api_string(self) -> String {
        self.to_datetime().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// RFC 3339 with milliseconds, for raw event records.
    pub fn to_rfc3339_millis(self) -> String {
        self.to_datetime().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_millis())
    }
}

/// Serializes as the API's whole-second form; used by summary fields.
pub mod api_seconds {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(m) => s.serialize_str(&m.to_api_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| Millis::parse_lenient(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339_millis())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Millis::parse_lenient(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_clients_send_reads_as_the_same_instant() {
        let expected = Millis::parse_lenient("2025-10-27T18:16:01Z").unwrap();
        for text in [
            "2025-10-27T18:16:01Z",
            "2025-10-27T18:16:01.000Z",
            "2025-10-27T20:16:01+02:00",
            "2025-10-27T20:16:01 02:00",
            "2025-10-27T13:16:01-05:00",
            "2025-10-27 18:16:01Z",
            "2025-10-27T18:16:01",
        ] {
            assert_eq!(Millis::parse_lenient(text), Ok(expected), "{text}");
        }
        assert_eq!(Millis::parse_lenient("2025-10-27").unwrap().to_api_string(), "2025-10-27T00:00:00Z");
    }

    #[test]
    fn garbage_and_out_of_range_dates_are_errors() {
        for text in ["", "yesterday", "2025-13-01", "2025-10-27T25:00:00Z", "99999-01-01T00:00:00Z"] {
            assert!(Millis::parse_lenient(text).is_err(), "{text}");
        }
    }

    #[test]
    fn api_strings_are_whole_seconds_with_a_literal_z() {
        let m = Millis::parse_lenient("2025-10-27T18:16:01.876Z").unwrap();
        assert_eq!(m.to_api_string(), "2025-10-27T18:16:01Z");
        assert_eq!(m.truncated().0 % 1000, 0);
        assert_eq!(m.to_rfc3339_millis(), "2025-10-27T18:16:01.876Z");
    }
}
