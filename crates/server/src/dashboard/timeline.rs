//! The room page's charts as data, without drawing: participant sessions grouped into rows by
//! identity, the time span a chart covers, the concurrency steps and the axis ticks.

use std::collections::HashMap;

/// One participant session (one `participant_sid`), in Unix seconds as the summaries give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub sid: String,
    pub identity: Option<String>,
    pub join: i64,
    /// `None` while still connected: the bar runs to the chart's end.
    pub leave: Option<i64>,
}

/// One timeline row: every session of one identity (a re-join has a new SID, same identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub label: String,
    pub sessions: Vec<Stay>,
}

/// The instants a chart spans, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: i64,
    pub end: i64,
}

impl TimeRange {
    pub fn seconds(self) -> i64 {
        self.end - self.start
    }
}

/// Twilio's longest room (24 h): an in-progress room whose last event is older than this has
/// gone quiet (only possible with a longer room timeout), so its chart does not run to today.
const OPEN_ROOM_REACH_SECS: i64 = 24 * 3600;

/// Groups sessions into rows by identity, rows ordered by first join; a session without an
/// identity gets a row of its own, labelled by its SID.
pub fn rows(mut sessions: Vec<Stay>) -> Vec<Lane> {
    sessions.sort_by(|a, b| (a.join, &a.sid).cmp(&(b.join, &b.sid)));
    let mut rows: Vec<Lane> = Vec::new();
    let mut by_identity: HashMap<String, usize> = HashMap::new();
    for session in sessions {
        let key = session.identity.clone().unwrap_or_else(|| format!("\u{0}{}", session.sid));
        match by_identity.get(&key) {
            Some(&index) => rows[index].sessions.push(session),
            None => {
                by_identity.insert(key, rows.len());
                let label = session.identity.clone().unwrap_or_else(|| session.sid.clone());
                rows.push(Lane { label, sessions: vec![session] });
            }
        }
    }
    rows
}

/// From the room's creation (or the first join) to its end. An in-progress room runs to `now`
/// (never before its last known instant); one silent for over a day runs a quarter of its
/// length (at least a minute) past its last known instant, so its open bars stay readable.
pub fn span(create: Option<i64>, end: Option<i64>, sessions: &[Stay], now: i64) -> TimeRange {
    let first_join = sessions.iter().map(|s| s.join).min();
    let start = match (create, first_join) {
        (Some(c), Some(j)) => c.min(j),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => now,
    };
    let latest = sessions.iter().flat_map(|s| [Some(s.join), s.leave]).flatten().chain([start]).max().unwrap_or(start);
    let end = match end {
        Some(end) => end.max(latest),
        None if now <= latest + OPEN_ROOM_REACH_SECS => now.max(latest),
        None => latest + ((latest - start) / 4).max(60),
    };
    TimeRange { start, end: end.max(start + 1) }
}

/// The number connected over the span, as `(instant, count from then on)` steps starting at
/// `span.start`. At one instant leaves count before joins (docs/behaviour.md §5), so a hand-over at the
/// same second is no overlap, and the peak matches the room's `concurrent_participants`.
pub fn concurrency(sessions: &[Stay], span: TimeRange) -> Vec<(i64, u32)> {
    let mut changes: Vec<(i64, i32)> = Vec::new();
    for session in sessions {
        changes.push((session.join, 1));
        if let Some(leave) = session.leave {
            changes.push((leave.max(session.join), -1));
        }
    }
    changes.sort_unstable();
    let mut steps = vec![(span.start, 0u32)];
    let mut count: i64 = 0;
    let mut index = 0;
    while index < changes.len() {
        let instant = changes[index].0;
        while index < changes.len() && changes[index].0 == instant {
            count += i64::from(changes[index].1);
            index += 1;
        }
        let value = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
        match steps.last_mut() {
            Some(last) if last.0 >= instant => last.1 = value,
            Some(last) if last.1 == value => {}
            _ => steps.push((instant, value)),
        }
    }
    steps
}

/// The highest count and the first instant it is reached.
pub fn peak(steps: &[(i64, u32)]) -> (u32, i64) {
    steps.iter().fold((0, steps.first().map_or(0, |s| s.0)), |best, &(t, n)| if n > best.0 { (n, t) } else { best })
}

/// Round clock intervals for axis ticks, in seconds.
const STEPS: [i64; 16] =
    [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800];

/// Tick instants aligned to a round clock interval, at most `most` of them inside the span.
pub fn ticks(span: TimeRange, most: i64) -> (i64, Vec<i64>) {
    let most = most.max(2);
    let step = STEPS.iter().copied().find(|step| span.seconds() / step < most).unwrap_or(604_800);
    let first = span.start.div_euclid(step) * step + if span.start.rem_euclid(step) == 0 { 0 } else { step };
    (step, (0..).map(|i| first + i * step).take_while(|&t| t <= span.end).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sid: &str, identity: Option<&str>, join: i64, leave: Option<i64>) -> Stay {
        Stay { sid: sid.into(), identity: identity.map(str::to_owned), join, leave }
    }

    #[test]
    fn re_joins_share_their_identity_row_and_rows_follow_first_join() {
        let rows = rows(vec![
            session("PA3", Some("alice"), 720, Some(1230)),
            session("PA2", Some("bob"), 5, None),
            session("PA1", Some("alice"), 1, Some(300)),
            session("PA4", None, 9, Some(10)),
        ]);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["alice", "bob", "PA4"]);
        let alice: Vec<&str> = rows[0].sessions.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(alice, ["PA1", "PA3"], "alice's sessions in join order");
    }

    #[test]
    fn an_ended_room_spans_creation_to_end_and_an_open_one_reaches_now_unless_it_went_quiet() {
        let sessions = [session("PA1", None, 10, Some(50))];
        assert_eq!(span(Some(0), Some(100), &sessions, 5_000), TimeRange { start: 0, end: 100 });
        assert_eq!(span(Some(0), None, &sessions, 70), TimeRange { start: 0, end: 70 });
        assert_eq!(span(Some(0), None, &sessions, 20), TimeRange { start: 0, end: 50 }, "never before the last leave");
        assert_eq!(span(Some(0), None, &sessions, 90_000), TimeRange { start: 0, end: 50 + 60 }, "a quiet room");
        let long = [session("PA1", None, 10, Some(4000))];
        assert_eq!(span(Some(0), None, &long, 200_000), TimeRange { start: 0, end: 5000 });
        assert_eq!(span(None, None, &[], 7), TimeRange { start: 7, end: 8 }, "never empty");
    }

    #[test]
    fn concurrency_counts_leaves_before_joins_at_the_same_instant() {
        // alice 1–300, bob 5–open, carol 300–720, alice again 720–1230: a peak of 2.
        let sessions = [
            session("PA1", Some("alice"), 1, Some(300)),
            session("PA2", Some("bob"), 5, None),
            session("PA3", Some("carol"), 300, Some(720)),
            session("PA4", Some("alice"), 720, Some(1230)),
        ];
        let steps = concurrency(&sessions, TimeRange { start: 0, end: 1800 });
        assert_eq!(steps, [(0, 0), (1, 1), (5, 2), (1230, 1)]);
        assert_eq!(peak(&steps), (2, 5));
    }

    #[test]
    fn concurrency_of_no_sessions_is_flat_zero() {
        assert_eq!(concurrency(&[], TimeRange { start: 3, end: 9 }), [(3, 0)]);
        assert_eq!(peak(&[(3, 0)]), (0, 3));
    }

    #[test]
    fn ticks_are_round_and_inside_the_span() {
        let (step, marks) = ticks(TimeRange { start: 1_761_588_000, end: 1_761_588_000 + 1800 }, 8);
        assert_eq!(step, 300);
        assert_eq!(marks.len(), 7);
        assert!(marks.iter().all(|t| t % 300 == 0));
        let (step, marks) = ticks(TimeRange { start: 7, end: 50 }, 8);
        assert_eq!((step, marks), (10, vec![10, 20, 30, 40, 50]));
    }
}
