//! The human output: aligned columns of the most useful fields, times in UTC without the `T`,
//! durations like `1h 02m`, and a field-per-line view of one object.

use serde_json::Value;

use crate::fields::{cell, Kind};

/// `1h 02m`, `4m 05s`, `12s`; `2d 03h` past a day; `-` when unknown (still in progress).
pub fn duration(seconds: Option<i64>) -> String {
    let Some(s) = seconds.filter(|s| *s >= 0) else { return "-".into() };
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `2025-10-27T18:16:01Z` → `2025-10-27 18:16:01`; `-` when absent.
pub fn time(value: &Value) -> String {
    match value.as_str() {
        Some(text) => text.trim_end_matches('Z').replacen('T', " ", 1),
        None => "-".into(),
    }
}

fn text(value: &Value, width: usize) -> String {
    let text = match value {
        Value::Null => "-".to_owned(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        other => cell(other),
    };
    if text.chars().count() > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text
    }
}

pub fn headers(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Room => &["ROOM SID", "NAME", "TYPE", "STATUS", "CREATED (UTC)", "DURATION", "PARTICIPANTS", "CODECS"],
        Kind::Participant => {
            &["PARTICIPANT SID", "IDENTITY", "STATUS", "JOINED (UTC)", "LEFT (UTC)", "DURATION", "CODECS"]
        }
        Kind::Usage => &["START", "END", "ROOMS", "COMPLETED", "SESSIONS", "IDENTITIES", "MINUTES", "PEAK"],
    }
}

pub fn row(kind: Kind, item: &Value) -> Vec<String> {
    let seconds = |key: &str| duration(item[key].as_i64());
    match kind {
        Kind::Room => vec![
            text(&item["room_sid"], 34),
            text(&item["room_name"], 40),
            text(&item["room_type"], 12),
            text(&item["room_status"], 12),
            time(&item["create_time"]),
            seconds("duration_sec"),
            text(&item["unique_participants"], 12),
            text(&item["codecs"], 24),
        ],
        Kind::Participant => vec![
            text(&item["participant_sid"], 34),
            text(&item["participant_identity"], 40),
            text(&item["status"], 12),
            time(&item["join_time"]),
            time(&item["leave_time"]),
            seconds("duration_sec"),
            text(&item["codecs"], 24),
        ],
        Kind::Usage => ["start_date", "end_date", "rooms", "completed_rooms", "participant_sessions"]
            .into_iter()
            .chain(["unique_identities", "participant_minutes", "peak_concurrent_participants"])
            .map(|field| text(&item[field], 12))
            .collect(),
    }
}

/// Columns padded to their widest cell, two spaces apart, the last one unpadded.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One object, a field per line in schema order (then any others); durations also shown the
/// human way.
pub fn render_fields(kind: Kind, item: &Value) -> String {
    let Some(object) = item.as_object() else { return format!("{item}\n") };
    let known = kind.fields();
    let mut keys: Vec<&str> = known.iter().copied().filter(|k| object.contains_key(*k)).collect();
    keys.extend(object.keys().map(String::as_str).filter(|k| !known.contains(k)));
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for key in keys {
        let value = &object[key];
        let mut shown = text(value, usize::MAX);
        if key.ends_with("_sec") && value.is_i64() {
            shown = format!("{shown} ({})", duration(value.as_i64()));
        }
        out.push_str(&format!("{key:width$}  {shown}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_way_people_say_them() {
        for (seconds, expected) in [
            (Some(0), "0s"),
            (Some(59), "59s"),
            (Some(65), "1m 05s"),
            (Some(3720), "1h 02m"),
            (Some(90_000), "1d 01h"),
            (None, "-"),
        ] {
            assert_eq!(duration(seconds), expected, "{seconds:?}");
        }
    }

    #[test]
    fn columns_align_and_long_names_are_cut() {
        let rows = vec![vec!["a".to_owned(), "xyz".to_owned()], vec!["long cell".to_owned(), "z".to_owned()]];
        assert_eq!(render(&["H1", "H2"], &rows), "H1         H2\na          xyz\nlong cell  z\n");
        assert_eq!(text(&Value::String("abcdef".into()), 4), "abc…");
    }
}
