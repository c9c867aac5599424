//! Where an import resumes. The checkpoint says which span of `create_time` is imported and
//! final: `[from, until)`. It is saved in the same transaction as the rooms it covers, so after a
//! crash a run resumes at `until` with neither gaps nor duplicates. It never passes a room that
//! may still change upstream (in progress, or not importable yet), so a later run refreshes it.

use roomlog_core::{AccountSid, Millis};
use serde::{Deserialize, Serialize};

/// The span of creation times fully imported, `from` inclusive, `until` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Covered {
    pub from: Millis,
    pub until: Millis,
}

/// One checkpoint per upstream, upstream credential and local account.
pub fn key(upstream: &str, username: &str, account: &AccountSid) -> String {
    format!("import|{upstream}|{username}|{account}")
}

pub fn encode(covered: &Covered) -> String {
    serde_json::to_string(covered).expect("a checkpoint serialises")
}

/// An unreadable checkpoint (from another version, say) is ignored: the import starts over,
/// which is safe because imports are idempotent.
pub fn decode(text: &str) -> Option<Covered> {
    serde_json::from_str(text).ok()
}

/// What one run walks: `[start, end)`, and where the covered span it extends begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub start: Millis,
    pub end: Millis,
    pub covered_from: Millis,
}

impl Plan {
    pub fn is_done(&self) -> bool {
        self.start >= self.end
    }
}

/// The run for the range `[from, end)` given what an earlier run covered. A saved span that
/// reaches `from` is extended; one that does not is replaced by this run's (a later run of
/// the older range then fetches it again, which only costs time).
pub fn plan(from: Millis, end: Millis, saved: Option<Covered>) -> Plan {
    match saved {
        Some(covered) if covered.from <= from && from <= covered.until => {
            Plan { start: covered.until.min(end).max(from), end, covered_from: covered.from }
        }
        _ => Plan { start: from, end, covered_from: from },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn covered(from: i64, until: i64) -> Option<Covered> {
        Some(Covered { from: Millis(from * H), until: Millis(until * H) })
    }

    #[test]
    fn a_run_resumes_where_the_covered_span_ends() {
        let plan = plan(Millis(0), Millis(10 * H), covered(0, 4));
        assert_eq!(plan, Plan { start: Millis(4 * H), end: Millis(10 * H), covered_from: Millis(0) });
        assert!(!plan.is_done());
    }

    #[test]
    fn a_range_inside_the_covered_span_has_nothing_to_do() {
        assert!(super::plan(Millis(H), Millis(3 * H), covered(0, 4)).is_done());
    }

    #[test]
    fn a_range_apart_from_the_covered_span_starts_its_own() {
        let plan = plan(Millis(6 * H), Millis(10 * H), covered(0, 4));
        assert_eq!(plan, Plan { start: Millis(6 * H), end: Millis(10 * H), covered_from: Millis(6 * H) });
        assert_eq!(super::plan(Millis(0), Millis(H), None).start, Millis(0));
    }

    #[test]
    fn checkpoints_read_back_and_garbage_is_ignored() {
        let saved = covered(1, 2).unwrap();
        assert_eq!(decode(&encode(&saved)), Some(saved));
        assert_eq!(decode("not json"), None);
    }
}
