//! The walk over the upstream: creation time ascending, in slices narrow enough for one page of
//! rooms (Insights lists newest first, so only a closed slice can be finished and checkpointed),
//! participants fetched for several rooms at once, and each slice written with its checkpoint
//! by a writer task while the next slice is fetched.

use std::sync::Arc;
use std::time::Duration;

use roomlog_core::vocab::ProcessingState;
use roomlog_core::{AccountSid, Checkpoint, ImportedRoom, Millis, ParticipantSummary, RoomSummary, Store};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::import::checkpoint::{self, Covered, Plan};
use crate::import::progress::{Progress, Totals};
use crate::insights::{ClientError, InsightsClient, ListPage};

const SECOND: i64 = 1000;
const FIRST_SLICE: i64 = 86_400 * SECOND;

pub struct Walk {
    pub client: InsightsClient,
    pub store: Arc<dyn Store>,
    pub account: AccountSid,
    pub checkpoint_key: String,
    pub plan: Plan,
    pub page_size: u32,
    pub concurrency: usize,
    /// Rooms created this recently may still appear upstream later (Twilio lists a room only
    /// once it has ended); the checkpoint stays this far behind the start of the run.
    pub late_arrivals: Duration,
}

/// One slice's rooms, and what could not be imported.
struct Fetched {
    rooms: Vec<ImportedRoom>,
    skipped: u64,
    errors: u64,
}

/// One slice, ready to write with its checkpoint.
struct Batch {
    fetched: Fetched,
    covered: Covered,
    /// How far creation times are walked (the checkpoint may be behind: see `cap`).
    walked: Millis,
}

/// How a run ended: its counts, its duration and how far the checkpoint reached.
pub struct Finished {
    pub totals: Totals,
    pub elapsed: std::time::Duration,
    pub rate: f64,
    pub covered: Option<Covered>,
}

/// Walks the plan. When the walk fails, what was fetched before is still written (and
/// checkpointed): the counts come back with the walk's error.
pub async fn run(walk: Walk, mut progress: Progress) -> anyhow::Result<(Finished, anyhow::Result<()>)> {
    let (batches, mut incoming) = mpsc::channel::<Batch>(1);
    let (store, account, key) = (walk.store.clone(), walk.account.clone(), walk.checkpoint_key.clone());
    let writer = tokio::spawn(async move {
        let mut totals = Totals::default();
        let mut covered = None;
        while let Some(batch) = incoming.recv().await {
            let checkpoint = Checkpoint { key: key.clone(), value: checkpoint::encode(&batch.covered) };
            let fetched = &batch.fetched;
            let outcome = store.import_rooms(&account, &fetched.rooms, Some(&checkpoint)).await?;
            totals.rooms += outcome.rooms;
            totals.participants += outcome.participants;
            totals.skipped += outcome.skipped + fetched.skipped;
            totals.errors += fetched.errors;
            covered = Some(batch.covered);
            let oldest = fetched.rooms.iter().filter_map(|r| r.room.create_time).min();
            progress.update(&totals, batch.walked, oldest);
        }
        progress.finish();
        anyhow::Ok(Finished { totals, elapsed: progress.elapsed(), rate: progress.rate(&totals), covered })
    });
    let walked = walk_slices(&walk, &batches).await;
    drop(batches);
    let finished = writer.await??;
    Ok((finished, walked))
}

async fn walk_slices(walk: &Walk, batches: &mpsc::Sender<Batch>) -> anyhow::Result<()> {
    let Plan { start, end, covered_from } = walk.plan;
    // Nothing at or after `cap` may be checkpointed (see `checkpoint`).
    let late = i64::try_from(walk.late_arrivals.as_millis()).unwrap_or(i64::MAX);
    let mut cap = end.min(Millis::now().plus_ms(-late));
    let (mut low, mut width) = (start, FIRST_SLICE);
    while low < end {
        let high = low.plus_ms(width).min(end);
        let first = walk.client.url("/v1/Video/Rooms", &slice_query(low, high, walk.page_size));
        let page: ListPage = walk.client.get(&first).await?;
        if page.meta.next_page_url.is_some() && high.0 - low.0 > SECOND {
            // More than a page: narrow the slice so that one slice is one checkpoint step.
            width = ((high.0 - low.0) / 2 / SECOND).max(1) * SECOND;
            continue;
        }
        let mut items = page.items;
        let mut next = page.meta.next_page_url;
        // Only a one-second slice holding more than a page of rooms gets here.
        while let Some(url) = next.take() {
            let page: ListPage = walk.client.get(&url).await?;
            items.extend(page.items);
            next = page.meta.next_page_url;
        }
        let fetched = fetch_slice(walk, items, &mut cap).await?;
        let count = fetched.rooms.len();
        let covered = Covered { from: covered_from, until: high.min(cap).max(start) };
        let batch = Batch { fetched, covered, walked: high };
        batches.send(batch).await.map_err(|_| anyhow::anyhow!("the import writer stopped"))?;
        if count < walk.page_size as usize / 2 {
            width = width.saturating_mul(2);
        }
        low = high;
    }
    Ok(())
}

fn slice_query(low: Millis, high: Millis, page_size: u32) -> Vec<(&'static str, String)> {
    vec![
        ("CreatedAfter", low.to_api_string()),
        ("CreatedBefore", high.to_api_string()),
        ("PageSize", page_size.to_string()),
    ]
}

/// Reads the slice's rooms and fetches their participants, `concurrency` rooms at a time.
async fn fetch_slice(walk: &Walk, items: Vec<Box<RawValue>>, cap: &mut Millis) -> anyhow::Result<Fetched> {
    let mut batch = Fetched { rooms: Vec::new(), skipped: 0, errors: 0 };
    let permits = Arc::new(Semaphore::new(walk.concurrency.max(1)));
    let mut fetches = JoinSet::new();
    for raw in items {
        let room: RoomSummary = match serde_json::from_str(raw.get()) {
            Ok(room) => room,
            Err(error) => {
                let created = serde_json::from_str::<serde_json::Value>(raw.get())
                    .ok()
                    .and_then(|v| v["create_time"].as_str().and_then(|t| Millis::parse_lenient(t).ok()));
                tracing::warn!(%error, room = %raw.get().chars().take(200).collect::<String>(), "unreadable room");
                // Without its creation time, hold the checkpoint at the start of the slice.
                *cap = (*cap).min(created.unwrap_or(Millis(0)).truncated());
                batch.errors += 1;
                continue;
            }
        };
        let (client, permits) = (walk.client.clone(), permits.clone());
        fetches.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("the semaphore is never closed");
            let participants = participants(&client, &room).await;
            (room, participants)
        });
    }
    while let Some(joined) = fetches.join_next().await {
        let (room, participants) = joined?;
        let created = room.create_time.unwrap_or_default().truncated();
        match participants {
            Ok(participants) => {
                // A room that may still change upstream is imported now and refreshed next run.
                if !matches!(room.processing_state, ProcessingState::Complete | ProcessingState::Timeout) {
                    *cap = (*cap).min(created);
                }
                batch.rooms.push(ImportedRoom { room, participants });
            }
            Err(Fetch::Gone) => batch.skipped += 1,
            Err(Fetch::Unreadable(error)) => {
                tracing::warn!(room = %room.room_sid, %error, "unreadable participants");
                *cap = (*cap).min(created);
                batch.errors += 1;
            }
            Err(Fetch::Failed(error)) => return Err(error.into()),
        }
    }
    batch.rooms.sort_by(|a, b| (a.room.create_time, &a.room.room_sid).cmp(&(b.room.create_time, &b.room.room_sid)));
    Ok(batch)
}

enum Fetch {
    /// The room is no longer upstream (expired between listing and fetching).
    Gone,
    Unreadable(serde_json::Error),
    Failed(ClientError),
}

async fn participants(client: &InsightsClient, room: &RoomSummary) -> Result<Vec<ParticipantSummary>, Fetch> {
    let path = format!("/v1/Video/Rooms/{}/Participants", room.room_sid);
    let mut next = Some(client.url(&path, &[("PageSize", "1000".to_owned())]));
    let mut all = Vec::new();
    while let Some(url) = next.take() {
        let page: ListPage = client.get(&url).await.map_err(|error| match error {
            ClientError::Api { status: 404, .. } => Fetch::Gone,
            other => Fetch::Failed(other),
        })?;
        for raw in page.items {
            all.push(serde_json::from_str(raw.get()).map_err(Fetch::Unreadable)?);
        }
        next = page.meta.next_page_url;
    }
    Ok(all)
}
