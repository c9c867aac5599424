//! The fold: a room's event set → its summaries, as pure functions (docs/design.md, "The flow").
//!
//! `RoomState` is an accumulator whose merge is commutative and idempotent (every field is a
//! min, a max, a set union or a register ordered by a total order on events), so applying
//! events one by one at ingest, in any order and with repeats, equals folding the whole set.
//! `summarize` turns the state into the API's summaries for a given "now" and settings.

mod state;
mod summarize;
pub mod update;

pub use state::RoomState;
pub use summarize::{FoldSettings, Folded};

use crate::event::RoomEvent;
use crate::sid::AccountSid;
use crate::time::Millis;

/// Folds a whole event set from scratch (rebuild, importer, tests).
pub fn fold<'a>(
    account: &AccountSid,
    events: impl IntoIterator<Item = (&'a str, &'a RoomEvent)>,
    settings: &FoldSettings,
    now: Millis,
) -> Option<Folded> {
    let mut state: Option<RoomState> = None;
    for (event_id, event) in events {
        state.get_or_insert_with(|| RoomState::new(event.room_sid.clone())).apply(event_id, event);
    }
    state.map(|s| s.summarize(account, settings, now))
}

#[cfg(test)]
mod tests;
