//! Ingest, lifecycle revisits and rebuilds, over a backend's open write transaction. Events and
//! the summaries derived from them are always written in the same transaction.

use std::collections::BTreeMap;

use roomlog_core::fold::update::{update, RoomUpdate};
use roomlog_core::outbox::NewMessage;
use roomlog_core::{AccountEvent, AccountSid, AppendOutcome, FoldSettings, Millis, RoomEvent, RoomSid, StoreError};

/// How many due rooms one revisit transaction handles.
pub const REVISIT_BATCH: i64 = 500;

/// A room whose summary changes with time alone, with its stored fold state.
pub struct DueRoom {
    pub account: AccountSid,
    pub room: RoomSid,
    pub state: String,
}

/// The I/O a backend provides inside one write transaction.
#[allow(async_fn_in_trait)]
pub trait WriteTx {
    /// Stores the raw event; `false` when an event with its identity is already stored.
    async fn insert_event(&mut self, event: &AccountEvent, body: &str, received: Millis) -> Result<bool, StoreError>;
    /// Stores the raw events, given in identity order with their bodies; for each, whether it
    /// is new (of repeats within `events`, the first). A backend may override this to insert
    /// many rows per statement.
    async fn insert_events(
        &mut self,
        events: &[(&AccountEvent, String)],
        received: Millis,
    ) -> Result<Vec<bool>, StoreError> {
        let mut fresh = Vec::with_capacity(events.len());
        for (event, body) in events {
            fresh.push(self.insert_event(event, body, received).await?);
        }
        Ok(fresh)
    }
    /// The room's fold state, locked against concurrent writers until the transaction ends.
    async fn lock_room_state(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Option<String>, StoreError>;
    /// Writes the room row and the participants that changed (all of them, after `clear`).
    async fn write_room(
        &mut self,
        account: &AccountSid,
        room: &RoomSid,
        update: &RoomUpdate,
        clear: bool,
    ) -> Result<(), StoreError>;
    async fn due_rooms(&mut self, now: Millis, limit: i64) -> Result<Vec<DueRoom>, StoreError>;
    /// `(event_id, body)` of every stored event of the room.
    async fn room_events(&mut self, account: &AccountSid, room: &RoomSid) -> Result<Vec<(String, String)>, StoreError>;
    /// The account's forward targets and `(id, url)` of its webhook endpoints (docs/behaviour.md §6).
    async fn destinations(&mut self, account: &AccountSid) -> Result<Destinations, StoreError>;
    /// Queues messages in this transaction.
    async fn enqueue(&mut self, messages: &[NewMessage], now: Millis) -> Result<(), StoreError>;
}

/// Where an account's events go out.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    pub forward_targets: Vec<String>,
    pub endpoints: Vec<(String, String)>,
}

/// The destinations of each account touched by one transaction, read once.
#[derive(Default)]
struct DestinationCache(BTreeMap<AccountSid, Destinations>);

impl DestinationCache {
    async fn of<T: WriteTx>(&mut self, tx: &mut T, account: &AccountSid) -> Result<&Destinations, StoreError> {
        if !self.0.contains_key(account) {
            let found = tx.destinations(account).await?;
            self.0.insert(account.clone(), found);
        }
        Ok(&self.0[account])
    }
}

fn corrupt(error: serde_json::Error) -> StoreError {
    StoreError::Other(Box::new(error))
}

/// Stores `events` and folds the new ones into their rooms. Events are inserted, and rooms
/// locked, in one global order, so concurrent writers never deadlock.
pub async fn append<T: WriteTx>(
    tx: &mut T,
    events: &[AccountEvent],
    settings: &FoldSettings,
    now: Millis,
) -> Result<AppendOutcome, StoreError> {
    Ok(append_many(tx, &[events], settings, now).await?[0])
}

/// `append` for several callers' batches in one transaction (group commit): every event is
/// inserted, an event already stored or sent earlier in the group counting as its caller's
/// duplicate, and then each room touched is folded once with all its new events.
pub async fn append_many<T: WriteTx>(
    tx: &mut T,
    batches: &[&[AccountEvent]],
    settings: &FoldSettings,
    now: Millis,
) -> Result<Vec<AppendOutcome>, StoreError> {
    let mut ordered: Vec<(usize, &AccountEvent)> =
        batches.iter().enumerate().flat_map(|(i, batch)| batch.iter().map(move |e| (i, e))).collect();
    ordered.sort_by(|(_, a), (_, b)| a.identity().cmp(&b.identity()));
    let mut outcomes = vec![AppendOutcome::default(); batches.len()];
    let mut fresh: BTreeMap<(&AccountSid, &RoomSid), Vec<&AccountEvent>> = BTreeMap::new();
    let bodies = ordered
        .iter()
        .map(|(_, event)| Ok((*event, serde_json::to_string(&event.event).map_err(corrupt)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let inserted = tx.insert_events(&bodies, now).await?;
    let mut destinations = DestinationCache::default();
    let mut messages = Vec::new();
    for ((batch, event), new) in ordered.into_iter().zip(inserted) {
        if new {
            if event.relay.is_some() {
                let targets = &destinations.of(tx, &event.account_sid).await?.forward_targets;
                messages.extend(crate::outbox::forwards(event, targets));
            }
            outcomes[batch].accepted += 1;
            fresh.entry((&event.account_sid, &event.event.room_sid)).or_default().push(event);
        } else {
            outcomes[batch].duplicates += 1;
        }
    }
    for ((account, room), room_events) in fresh {
        let stored = tx.lock_room_state(account, room).await?;
        // An imported room has no fold state: its events are kept, its archived summary stays.
        if stored.as_deref() == Some(crate::import::IMPORTED_STATE) {
            continue;
        }
        let events = room_events.iter().map(|e| (e.event_id.as_str(), &e.event));
        let update = update(account, room, stored.as_deref(), events, settings, now).map_err(corrupt)?;
        tx.write_room(account, room, &update, false).await?;
        announce(tx, &mut destinations, account, room, &update, &mut messages).await?;
    }
    if !messages.is_empty() {
        tx.enqueue(&messages, now).await?;
    }
    Ok(outcomes)
}

/// Re-summarises up to `REVISIT_BATCH` rooms due at `now`; returns how many.
pub async fn revisit<T: WriteTx>(tx: &mut T, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    let due = tx.due_rooms(now, REVISIT_BATCH).await?;
    let mut destinations = DestinationCache::default();
    let mut messages = Vec::new();
    for room in &due {
        let Some(state) = tx.lock_room_state(&room.account, &room.room).await? else { continue };
        let update =
            update(&room.account, &room.room, Some(&state), std::iter::empty(), settings, now).map_err(corrupt)?;
        tx.write_room(&room.account, &room.room, &update, false).await?;
        announce(tx, &mut destinations, &room.account, &room.room, &update, &mut messages).await?;
    }
    if !messages.is_empty() {
        tx.enqueue(&messages, now).await?;
    }
    Ok(due.len() as u64)
}

/// The room webhooks of one room's update, when its account has endpoints.
async fn announce<T: WriteTx>(
    tx: &mut T,
    destinations: &mut DestinationCache,
    account: &AccountSid,
    room: &RoomSid,
    update: &RoomUpdate,
    messages: &mut Vec<NewMessage>,
) -> Result<(), StoreError> {
    if update.announce.started || update.announce.completed.is_some() {
        let endpoints = &destinations.of(tx, account).await?.endpoints;
        if !endpoints.is_empty() {
            messages.extend(crate::outbox::announcements(
                account,
                room,
                &update.announce,
                &update.room.json,
                endpoints,
            ));
        }
    }
    Ok(())
}

/// Refolds one room from its stored events; returns how many events it had.
pub async fn rebuild_room<T: WriteTx>(
    tx: &mut T,
    account: &AccountSid,
    room: &RoomSid,
    settings: &FoldSettings,
    now: Millis,
) -> Result<u64, StoreError> {
    if tx.lock_room_state(account, room).await?.as_deref() == Some(crate::import::IMPORTED_STATE) {
        return Ok(0);
    }
    let stored = tx.room_events(account, room).await?;
    let events: Vec<(String, RoomEvent)> = stored
        .into_iter()
        .map(|(id, body)| Ok((id, serde_json::from_str(&body).map_err(corrupt)?)))
        .collect::<Result<_, StoreError>>()?;
    let update =
        update(account, room, None, events.iter().map(|(id, e)| (id.as_str(), e)), settings, now).map_err(corrupt)?;
    tx.write_room(account, room, &update, true).await?;
    Ok(events.len() as u64)
}
