//! Usage over time (docs/behaviour.md §7.1): the parameters, the periods of a range, what one room
//! adds to its period, and the rows of an answer. Pure: the store supplies the rooms' usage.
//!
//! A room and everything in it count in the UTC day of its `create_time`. `unique_identities` is
//! a distinct count within each period (and each room type), never a sum of smaller periods.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

use crate::query::ParamError;
use crate::summary::{ParticipantSummary, RoomSummary};
use crate::time::Millis;
use crate::vocab::{RoomStatus, RoomType};

/// Longest ranges: 366 days at day granularity, 120 months at month granularity.
pub const MAX_DAYS: i64 = 366;
pub const MAX_MONTHS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Month,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
    }
}

/// A usage request, validated: both ends inclusive, `start <= end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub granularity: Granularity,
    /// In enum order, without repeats; empty means any.
    pub room_types: Vec<RoomType>,
    /// Both ends were given: the range does not depend on the day it is answered.
    pub dated: bool,
}

fn invalid(param: &'static str, message: impl ToString) -> ParamError {
    ParamError { param, message: message.to_string() }
}

fn date(param: &'static str, value: &str) -> Result<NaiveDate, ParamError> {
    let well_formed = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| well_formed)
        .ok_or_else(|| invalid(param, format!("{value:?} is not a date (YYYY-MM-DD)")))
}

/// Reads `StartDate`, `EndDate`, `Granularity` and `RoomType` (repeatable); `today` is the UTC
/// day of the answer, the default `EndDate`. Unknown parameters are ignored, an empty value is
/// absent, the last of a repeated single-valued one is kept.
pub fn parse_usage<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    today: NaiveDate,
) -> Result<UsageQuery, ParamError> {
    let (mut start, mut end, mut granularity) = (None, None, Granularity::Day);
    let mut room_types = Vec::new();
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        match key {
            "StartDate" => start = Some(date("StartDate", value)?),
            "EndDate" => end = Some(date("EndDate", value)?),
            "Granularity" => {
                granularity = match value {
                    "day" => Granularity::Day,
                    "month" => Granularity::Month,
                    other => return Err(invalid("Granularity", format!("{other:?} is not one of: day month"))),
                }
            }
            "RoomType" => {
                let room_type: RoomType = value.parse().map_err(|e| invalid("RoomType", e))?;
                if !room_types.contains(&room_type) {
                    room_types.push(room_type);
                }
            }
            _ => {}
        }
    }
    room_types.sort_unstable();
    let dated = start.is_some() && end.is_some();
    let end = end.unwrap_or(today);
    let start = match start {
        Some(start) => start,
        None => end.checked_sub_days(Days::new(29)).ok_or_else(|| invalid("EndDate", "is too early"))?,
    };
    if end < start {
        return Err(invalid("EndDate", format!("{end} is before StartDate {start}")));
    }
    let query = UsageQuery { start, end, granularity, room_types, dated };
    match granularity {
        Granularity::Day if query.days() > MAX_DAYS => Err(invalid(
            "StartDate",
            format!("the range holds {} days; at most {MAX_DAYS} with Granularity=day", query.days()),
        )),
        Granularity::Month if query.months() > MAX_MONTHS => Err(invalid(
            "StartDate",
            format!("the range holds {} months; at most {MAX_MONTHS} with Granularity=month", query.months()),
        )),
        _ => Ok(query),
    }
}

/// A room's UTC day, as a day number (days since 1970-01-01).
pub fn day_number(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// The UTC day an instant falls on.
pub fn day_of(instant: Millis) -> i64 {
    instant.0.div_euclid(86_400_000)
}

/// One row's days, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl UsageQuery {
    /// Days in the range, both ends counted.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Calendar months the range touches.
    pub fn months(&self) -> i64 {
        let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        index(self.end) - index(self.start) + 1
    }

    /// The rows' periods, oldest first: each day, or each calendar month clipped to the range.
    pub fn periods(&self) -> Vec<Period> {
        let mut periods = Vec::new();
        let mut start = self.start;
        while start <= self.end {
            let end = match self.granularity {
                Granularity::Day => start,
                Granularity::Month => {
                    let first = start.with_day(1).unwrap_or(start);
                    let last = first.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(self.end);
                    last.min(self.end)
                }
            };
            periods.push(Period { start, end });
            match end.succ_opt() {
                Some(next) => start = next,
                None => break,
            }
        }
        periods
    }

    /// The request's parameters in the order of `meta.url`, with the effective range.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("StartDate", self.start.to_string()),
            ("EndDate", self.end.to_string()),
            ("Granularity", self.granularity.as_str().to_owned()),
        ];
        pairs.extend(self.room_types.iter().map(|t| ("RoomType", t.as_str().to_owned())));
        pairs
    }
}

/// What one room adds to the period of its `create_time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomUsage {
    pub day: i64,
    pub room_type: Option<RoomType>,
    pub completed: bool,
    pub sessions: i64,
    /// Of the participants that have left (they have a `duration_sec`).
    pub participant_seconds: i64,
    /// Each of those sessions rounded up to whole minutes.
    pub participant_minutes: i64,
    /// The room's `duration_sec` when it is completed.
    pub room_seconds: i64,
    pub recording_seconds: i64,
    pub peak: i64,
    pub identities: BTreeSet<String>,
}

impl RoomUsage {
    pub fn of(room: &RoomSummary, participants: &[ParticipantSummary]) -> RoomUsage {
        let completed = room.room_status == Some(RoomStatus::Completed);
        let left: Vec<i64> = participants.iter().filter_map(|p| p.duration_sec).map(|d| d.max(0)).collect();
        RoomUsage {
            day: room.create_time.map_or(0, day_of),
            room_type: room.room_type,
            completed,
            sessions: participants.len() as i64,
            participant_seconds: left.iter().sum(),
            participant_minutes: left.iter().map(|d| (d + 59) / 60).sum(),
            room_seconds: if completed { room.duration_sec.unwrap_or(0).max(0) } else { 0 },
            recording_seconds: room.total_recording_duration_sec,
            peak: room.concurrent_participants,
            identities: participants.iter().filter_map(|p| p.participant_identity.clone()).collect(),
        }
    }
}

/// The counts of one row, or of one room type within it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rooms: i64,
    pub completed_rooms: i64,
    pub participant_sessions: i64,
    pub unique_identities: i64,
    pub participant_seconds: i64,
    pub participant_minutes: i64,
    pub room_seconds: i64,
    pub recording_seconds: i64,
    pub peak_concurrent_participants: i64,
}

#[derive(Default)]
struct Tally {
    counts: Counts,
    identities: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, room: &RoomUsage) {
        let c = &mut self.counts;
        c.rooms += 1;
        c.completed_rooms += i64::from(room.completed);
        c.participant_sessions += room.sessions;
        c.participant_seconds += room.participant_seconds;
        c.participant_minutes += room.participant_minutes;
        c.room_seconds += room.room_seconds;
        c.recording_seconds += room.recording_seconds;
        c.peak_concurrent_participants = c.peak_concurrent_participants.max(room.peak);
        self.identities.extend(room.identities.iter().cloned());
    }

    fn finish(mut self) -> Counts {
        self.counts.unique_identities = self.identities.len() as i64;
        self.counts
    }
}

/// One row of the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    pub start_date: String,
    pub end_date: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub by_room_type: BTreeMap<&'static str, Counts>,
}

/// The rows of `query` over the account's rooms (any order; those outside the range or of
/// other room types are left out), one per period, zero rows included.
pub fn rows(query: &UsageQuery, rooms: impl IntoIterator<Item = RoomUsage>) -> Vec<UsageRow> {
    let periods = query.periods();
    let mut tallies: Vec<(Tally, BTreeMap<&'static str, Tally>)> = periods.iter().map(|_| Default::default()).collect();
    let first = day_number(query.start);
    // The period of each day of the range.
    let mut period_of = Vec::with_capacity(query.days() as usize);
    for (i, period) in periods.iter().enumerate() {
        period_of.extend(std::iter::repeat_n(i, ((period.end - period.start).num_days() + 1) as usize));
    }
    for room in rooms {
        let wanted = query.room_types.is_empty() || room.room_type.is_some_and(|t| query.room_types.contains(&t));
        let Some(&i) = usize::try_from(room.day - first).ok().and_then(|offset| period_of.get(offset)) else {
            continue;
        };
        if !wanted {
            continue;
        }
        let (total, by_type) = &mut tallies[i];
        total.add(&room);
        if let Some(room_type) = room.room_type {
            by_type.entry(room_type.as_str()).or_default().add(&room);
        }
    }
    periods
        .iter()
        .zip(tallies)
        .map(|(period, (total, by_type))| UsageRow {
            start_date: period.start.to_string(),
            end_date: period.end.to_string(),
            counts: total.finish(),
            by_room_type: by_type.into_iter().map(|(t, tally)| (t, tally.finish())).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<UsageQuery, ParamError> {
        parse_usage(pairs.iter().copied(), d("2026-01-31"))
    }

    fn room(day: &str, room_type: Option<RoomType>, sessions: &[(&str, Option<i64>)]) -> RoomUsage {
        let left: Vec<i64> = sessions.iter().filter_map(|(_, s)| *s).collect();
        RoomUsage {
            day: day_number(d(day)),
            room_type,
            completed: true,
            sessions: sessions.len() as i64,
            participant_seconds: left.iter().sum(),
            participant_minutes: left.iter().map(|s| (s + 59) / 60).sum(),
            room_seconds: 600,
            recording_seconds: 0,
            peak: sessions.len() as i64,
            identities: sessions.iter().map(|(who, _)| (*who).to_owned()).collect(),
        }
    }

    #[test]
    fn the_default_range_is_the_thirty_days_ending_today() {
        let query = parse(&[]).unwrap();
        assert_eq!((query.start, query.end, query.granularity), (d("2026-01-02"), d("2026-01-31"), Granularity::Day));
        assert_eq!(query.periods().len(), 30);
        assert!(!query.dated);
        let query = parse(&[("EndDate", "2025-03-01")]).unwrap();
        assert_eq!((query.start, query.dated), (d("2025-01-31"), false));
        assert!(parse(&[("StartDate", "2025-03-01"), ("EndDate", "2025-03-01")]).unwrap().dated);
        assert!(!parse(&[("StartDate", "2025-03-01"), ("EndDate", "")]).unwrap().dated, "empty is absent");
        assert_eq!(day_number(d("1970-01-02")), 1);
        assert_eq!(day_of(Millis(86_400_000 * 3 - 1)), 2);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        for (pairs, param) in [
            (vec![("StartDate", "2025-1-01")], "StartDate"),
            (vec![("StartDate", "2025-02-30")], "StartDate"),
            (vec![("EndDate", "yesterday")], "EndDate"),
            (vec![("StartDate", "2025-03-02"), ("EndDate", "2025-03-01")], "EndDate"),
            (vec![("StartDate", "2025-01-01"), ("EndDate", "2026-01-02")], "StartDate"),
            (vec![("StartDate", "2016-01-01"), ("EndDate", "2026-01-01"), ("Granularity", "month")], "StartDate"),
            (vec![("Granularity", "week")], "Granularity"),
            (vec![("RoomType", "huge")], "RoomType"),
        ] {
            assert_eq!(parse(&pairs).unwrap_err().param, param, "{pairs:?}");
        }
        assert_eq!(parse(&[("StartDate", "2025-01-01"), ("EndDate", "2026-01-01")]).unwrap().days(), 366);
        let months = parse(&[("StartDate", "2016-01-31"), ("EndDate", "2025-12-01"), ("Granularity", "month")]);
        assert_eq!(months.unwrap().months(), 120);
    }

    #[test]
    fn months_are_clipped_to_the_range() {
        let query = parse(&[("StartDate", "2024-01-15"), ("EndDate", "2024-03-10"), ("Granularity", "month")]).unwrap();
        let periods: Vec<(String, String)> =
            query.periods().iter().map(|p| (p.start.to_string(), p.end.to_string())).collect();
        assert_eq!(
            periods,
            [
                ("2024-01-15".into(), "2024-01-31".into()),
                ("2024-02-01".into(), "2024-02-29".into()),
                ("2024-03-01".into(), "2024-03-10".into())
            ]
        );
        let pairs = query.query_pairs();
        assert_eq!(pairs[2], ("Granularity", "month".to_owned()));
    }

    #[test]
    fn a_month_counts_identities_once_and_sessions_round_up_to_minutes() {
        let rooms = vec![
            room("2025-03-01", Some(RoomType::Group), &[("alice", Some(0)), ("bob", Some(60)), ("alice", Some(61))]),
            room("2025-03-02", Some(RoomType::Go), &[("alice", Some(30)), ("carol", None)]),
            room("2025-04-01", Some(RoomType::Group), &[("dave", Some(10))]),
        ];
        let days = parse(&[("StartDate", "2025-03-01"), ("EndDate", "2025-03-03")]).unwrap();
        let by_day = rows(&days, rooms.clone());
        assert_eq!(by_day.len(), 3, "a zero row for 2025-03-03; April is outside");
        assert_eq!((by_day[0].counts.unique_identities, by_day[1].counts.unique_identities), (2, 2));
        assert_eq!(by_day[0].counts.participant_minutes, 3, "0 s -> 0, 60 s -> 1, 61 s -> 2");
        assert_eq!(by_day[1].counts.participant_seconds, 30, "carol has not left");
        assert_eq!(by_day[2].counts, Counts::default());
        assert!(by_day[2].by_room_type.is_empty());
        assert_eq!(by_day[0].by_room_type.keys().copied().collect::<Vec<_>>(), ["group"]);

        let month = parse(&[("StartDate", "2025-03-01"), ("EndDate", "2025-03-31"), ("Granularity", "month")]).unwrap();
        let by_month = rows(&month, rooms.clone());
        assert_eq!(by_month.len(), 1);
        let c = &by_month[0].counts;
        assert_eq!((c.rooms, c.participant_sessions, c.unique_identities), (2, 5, 3), "alice once in the month");
        assert_eq!((c.peak_concurrent_participants, c.room_seconds), (3, 1200));
        assert_eq!(by_month[0].by_room_type["go"].unique_identities, 2);

        let go_only = parse(&[("StartDate", "2025-03-01"), ("EndDate", "2025-03-02"), ("RoomType", "go")]).unwrap();
        let filtered = rows(&go_only, rooms.clone());
        assert_eq!((filtered[0].counts.rooms, filtered[1].counts.rooms), (0, 1));
        let mut reversed = rooms;
        reversed.reverse();
        assert_eq!(rows(&days, reversed), by_day, "order does not matter");
    }

    #[test]
    fn a_room_s_usage_comes_from_its_summary_and_its_participants() {
        use crate::event::RoomEvent;
        use crate::fold::{fold, FoldSettings};
        let event = |value: serde_json::Value| serde_json::from_value::<RoomEvent>(value).unwrap();
        let room = "RM0123456789abcdef0123456789abcdef";
        let joined = |sid: &str, who: &str, at: &str| {
            event(serde_json::json!({"event": "participant-connected", "room_sid": room, "timestamp": at,
                "participant_sid": sid, "participant_identity": who}))
        };
        let events = vec![
            event(
                serde_json::json!({"event": "room-created", "room_sid": room, "timestamp": "2025-03-01T23:59:00Z", "room_type": "go"}),
            ),
            joined("PA00000000000000000000000000000001", "alice", "2025-03-02T00:00:00Z"),
            joined("PA00000000000000000000000000000002", "bob", "2025-03-02T00:00:10Z"),
            event(
                serde_json::json!({"event": "participant-disconnected", "room_sid": room, "timestamp": "2025-03-02T00:01:01Z",
                "participant_sid": "PA00000000000000000000000000000001", "participant_duration": 61}),
            ),
        ];
        let account: crate::sid::AccountSid = "AC0123456789abcdef0123456789abcdef".parse().unwrap();
        let ids: Vec<String> = (0..events.len()).map(|i| i.to_string()).collect();
        let now = Millis::parse_lenient("2025-03-02T01:00:00Z").unwrap();
        let folded =
            fold(&account, ids.iter().map(String::as_str).zip(&events), &FoldSettings::default(), now).unwrap();
        let usage = RoomUsage::of(&folded.room, &folded.participants);
        assert_eq!(usage.day, day_number(d("2025-03-01")), "the day of create_time, not of the sessions");
        assert_eq!((usage.room_type, usage.completed, usage.sessions), (Some(RoomType::Go), false, 2));
        assert_eq!((usage.participant_seconds, usage.participant_minutes), (61, 2), "bob has not left");
        assert_eq!((usage.room_seconds, usage.peak), (0, 2), "an open room has no room seconds yet");
        assert_eq!(usage.identities.iter().map(String::as_str).collect::<Vec<_>>(), ["alice", "bob"]);
    }

    #[test]
    fn a_row_serialises_with_its_counts_beside_the_dates() {
        let query = parse(&[("StartDate", "2025-03-01"), ("EndDate", "2025-03-01")]).unwrap();
        let value = serde_json::to_value(&rows(&query, [room("2025-03-01", None, &[("a", Some(5))])])[0]).unwrap();
        assert_eq!(value["start_date"], "2025-03-01");
        assert_eq!(value["participant_minutes"], 1);
        assert_eq!(value["rooms"], 1);
        assert_eq!(value["by_room_type"], serde_json::json!({}), "a room of no known type counts only in the totals");
    }
}
