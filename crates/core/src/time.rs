//! Instants: events keep milliseconds, the API speaks whole seconds as `YYYY-MM-DDTHH:MM:SSZ`
//! (docs/behaviour.md §1, §5); filter dates are read leniently (docs/behaviour.md §2).

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
        if let Some(ms) = parse_canonical(text.as_bytes()) {
            return Self::checked(ms, text);
        }
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

    /// `YYYY-MM-DDTHH:MM:SSZ`, the only form twilio-python parses (docs/behaviour.md §1).
    pub fn to_api_string(self) -> String {
        format_canonical(self.0.clamp(MIN_MS, MAX_MS), false)
    }

    /// RFC 3339 with milliseconds, for raw event records.
    pub fn to_rfc3339_millis(self) -> String {
        format_canonical(self.0.clamp(MIN_MS, MAX_MS), true)
    }
}

// Every summary and fold state holds several instants, so the two forms roomlog itself writes
// are formatted and read by hand (days ↔ civil dates, proleptic Gregorian); chrono's
// format-string machinery cost more than the rest of rendering a summary. Anything else goes
// through chrono. The tests hold both to chrono's answers.

const MS_PER_DAY: i64 = 86_400_000;

/// The civil date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March = 0
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day, counted from 1970-01-01, of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = i64::from((month + 9) % 12); // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for an instant within `MIN_MS..=MAX_MS`.
fn format_canonical(ms: i64, with_millis: bool) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let mut out = [0u8; 24];
    let mut put = |at: usize, value: i64, width: usize| {
        for i in 0..width {
            out[at + width - 1 - i] = b'0' + (value / 10i64.pow(i as u32) % 10) as u8;
        }
    };
    put(0, year, 4);
    put(5, i64::from(month), 2);
    put(8, i64::from(day), 2);
    put(11, in_day / 3_600_000, 2);
    put(14, in_day / 60_000 % 60, 2);
    put(17, in_day / 1000 % 60, 2);
    put(20, in_day % 1000, 3);
    for (at, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')] {
        out[at] = separator;
    }
    let end = if with_millis { 23 } else { 19 };
    out[end] = b'Z';
    out[..=end].iter().map(|&b| char::from(b)).collect()
}

/// Reads exactly the forms `format_canonical` writes; `None` for anything else (left to chrono).
fn parse_canonical(text: &[u8]) -> Option<i64> {
    if !(text.len() == 20 || text.len() == 24) || text[text.len() - 1] != b'Z' {
        return None;
    }
    let number = |from: usize, width: usize| -> Option<i64> {
        text[from..from + width].iter().try_fold(0i64, |n, &b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| text[at] != byte) {
        return None;
    }
    let millis = if text.len() == 24 {
        if text[19] != b'.' {
            return None;
        }
        number(20, 3)?
    } else {
        0
    };
    let (year, month, day) = (number(0, 4)?, number(5, 2)? as u32, number(8, 2)? as u32);
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis)
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

    fn chrono_format(ms: i64, pattern: &str) -> String {
        Utc.timestamp_millis_opt(ms).single().unwrap().format(pattern).to_string()
    }

    proptest::proptest! {
        #[test]
        fn the_hand_written_forms_are_chronos(ms in MIN_MS..=MAX_MS) {
            let instant = Millis(ms);
            proptest::prop_assert_eq!(instant.to_api_string(), chrono_format(ms, "%Y-%m-%dT%H:%M:%SZ"));
            proptest::prop_assert_eq!(instant.to_rfc3339_millis(), chrono_format(ms, "%Y-%m-%dT%H:%M:%S%.3fZ"));
            proptest::prop_assert_eq!(Millis::parse_lenient(&instant.to_rfc3339_millis()), Ok(instant));
            proptest::prop_assert_eq!(Millis::parse_lenient(&instant.to_api_string()), Ok(instant.truncated()));
        }

        #[test]
        fn the_fast_reading_agrees_with_chrono_on_any_canonical_looking_text(
            year in 0i64..10_000, month in 0u32..14, day in 0u32..33, hour in 0u32..26, minute in 0u32..62,
            second in 0u32..62, millis in proptest::option::of(0u32..1000),
        ) {
            let fraction = millis.map(|m| format!(".{m:03}")).unwrap_or_default();
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z");
            let by_chrono = DateTime::parse_from_rfc3339(&text).ok().map(|t| t.timestamp_millis());
            match parse_canonical(text.as_bytes()) {
                Some(ms) => proptest::prop_assert_eq!(Some(ms), by_chrono, "{}", text),
                // Left to chrono: only what chrono reads differently or refuses (leap seconds).
                None => proptest::prop_assert!(by_chrono.is_none() || second >= 60, "{}", text),
            }
        }
    }

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
