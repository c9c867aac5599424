//! The list queries: keyset range scans on `(account, time, sid)` indexes (docs/behaviour.md §2).

use roomlog_core::page::PageRequest;
use roomlog_core::{AccountSid, IdentityFilter, Millis, RoomFilter, RoomSid};

/// A bind parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Text(String),
}

/// SQL with `?` placeholders and its parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Query {
    fn new(sql: &str) -> Query {
        Query { sql: sql.to_owned(), args: Vec::new() }
    }
    fn push(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) {
        self.sql.push_str(clause);
        self.args.extend(args);
    }
}

/// `?` → `$1, $2, …` for PostgreSQL. Statements here never hold `?` inside string literals.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A summary's `create_time` is whole seconds; `create_time >= t` (and `< t`) for an instant
/// `t` with milliseconds holds exactly when the seconds are `>=` (`<`) `t` rounded up.
fn ceil_secs(instant: Millis) -> i64 {
    instant.0.div_euclid(1000) + i64::from(instant.0.rem_euclid(1000) != 0)
}

/// The keyset condition, order and limit for a list sorted by `(time, sid)`.
fn push_page(query: &mut Query, request: &PageRequest, time: &str, sid: &str, list_descending: bool) {
    let toward_smaller = list_descending != request.walks_backwards();
    let (op, order) = if toward_smaller { ("<", "DESC") } else { (">", "ASC") };
    if let Some(cursor) = &request.cursor {
        query.push(
            &format!(" AND ({time}, {sid}) {op} (?, ?)"),
            [Arg::Int(cursor.time_secs), Arg::Text(cursor.sid.clone())],
        );
    }
    query.push(
        &format!(" ORDER BY {time} {order}, {sid} {order} LIMIT ?"),
        [Arg::Int(i64::from(request.fetch_limit()))],
    );
    if request.cursor.is_none() && request.offset > 0 {
        query.push(" OFFSET ?", [Arg::Int(i64::try_from(request.offset).unwrap_or(i64::MAX))]);
    }
}

pub fn list_rooms(account: &AccountSid, filter: &RoomFilter, request: &PageRequest) -> Query {
    let mut query = Query::new("SELECT create_time, room_sid, summary FROM rooms WHERE account_sid = ?");
    query.args.push(Arg::Text(account.to_string()));
    if !filter.room_types.is_empty() {
        let marks = vec!["?"; filter.room_types.len()].join(", ");
        // With an exact name, the name index is the narrow one: `room_type || ''` keeps the
        // planner (SQLite has no statistics to tell) from walking every room of the type instead.
        let column = if filter.room_name.is_some() { "room_type || ''" } else { "room_type" };
        query.push(
            &format!(" AND {column} IN ({marks})"),
            filter.room_types.iter().map(|t| Arg::Text(t.as_str().to_owned())),
        );
    }
    if filter.codecs.0 != 0 {
        // A literal, not a parameter: a single codec's `(codecs & 4) <> 0` is the predicate of
        // its partial index (migration 0003), which the planner matches only as written. The
        // mask comes from the closed codec enum, never from the request's text.
        query.push(&format!(" AND (codecs & {}) <> 0", filter.codecs.0), []);
    }
    if let Some(name) = &filter.room_name {
        query.push(" AND room_name = ?", [Arg::Text(name.clone())]);
    }
    let lower = match (filter.created_after, request.cutoff) {
        (Some(after), Some(cutoff)) => Some(after.max(cutoff)),
        (after, cutoff) => after.or(cutoff),
    };
    if let Some(after) = lower {
        query.push(" AND create_time >= ?", [Arg::Int(ceil_secs(after))]);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND create_time < ?", [Arg::Int(ceil_secs(before))]);
    }
    push_page(&mut query, request, "create_time", "room_sid", true);
    query
}

pub fn list_participants(account: &AccountSid, room: &RoomSid, request: &PageRequest) -> Query {
    let mut query = Query::new(
        "SELECT join_time, participant_sid, summary FROM participants WHERE account_sid = ? AND room_sid = ?",
    );
    query.args.extend([Arg::Text(account.to_string()), Arg::Text(room.to_string())]);
    push_page(&mut query, request, "join_time", "participant_sid", false);
    query
}

/// One identity's sessions across the account's rooms, newest `join_time` first
/// (docs/behaviour.md §7.2): a range scan of the `participants_by_identity` index.
pub fn list_identity_sessions(account: &AccountSid, filter: &IdentityFilter, request: &PageRequest) -> Query {
    let mut query = Query::new(
        "SELECT join_time, participant_sid, summary FROM participants WHERE account_sid = ? AND identity = ?",
    );
    query.args.extend([Arg::Text(account.to_string()), Arg::Text(filter.identity.clone())]);
    if let Some(after) = filter.created_after {
        query.push(" AND join_time >= ?", [Arg::Int(ceil_secs(after))]);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND join_time < ?", [Arg::Int(ceil_secs(before))]);
    }
    push_page(&mut query, request, "join_time", "participant_sid", true);
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(numbered("a = ? AND (b, c) < (?, ?)"), "a = $1 AND (b, c) < ($2, $3)");
    }

    #[test]
    fn instants_with_milliseconds_round_up_to_the_next_second() {
        assert_eq!(ceil_secs(Millis(2_000)), 2);
        assert_eq!(ceil_secs(Millis(2_001)), 3);
    }
}
