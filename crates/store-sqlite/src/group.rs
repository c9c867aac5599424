//! Group commit: one writer task gathers the `append` calls waiting at the same moment into one
//! SQLite transaction, so many callers share one commit (one WAL sync) instead of queueing for a
//! commit each. One caller's failure never takes the others' events with it, and each caller
//! hears back only after the transaction that holds its events has committed (BEHAVIOUR §4.3:
//! acknowledged means durable).

use roomlog_core::{AccountEvent, AppendOutcome, FoldSettings, Millis, StoreError};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::writes::{begin, commit};

/// Calls gathered into one transaction stop joining it at this many events, bounding how long
/// the writer holds the database and how much one rollback can undo.
const MAX_GROUP_EVENTS: usize = 5_000;

struct Job {
    events: Vec<AccountEvent>,
    settings: FoldSettings,
    now: Millis,
    reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

/// The handle callers append through; the writer task ends when every handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite writer task stopped".into())
}

impl GroupCommit {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(pool: SqlitePool) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(1024);
        tokio::spawn(run(pool, queue));
        GroupCommit { jobs }
    }

    /// Stores and folds `events` in the next group; returns once that group has committed.
    pub async fn append(
        &self,
        events: &[AccountEvent],
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { events: events.to_vec(), settings: *settings, now, reply };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut size = first.events.len();
        let mut group = vec![first];
        while size < MAX_GROUP_EVENTS {
            match queue.try_recv() {
                Ok(job) => {
                    size += job.events.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // Its own task, so that a panic in one group fails that group's callers (their replies
        // are dropped unanswered) and not every append after it.
        let pool = pool.clone();
        let _ = tokio::spawn(async move {
            let (jobs, outcomes) = commit_group(&pool, group).await;
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                // A caller that went away (its request was cancelled) needs no answer.
                let _ = job.reply.send(outcome);
            }
        })
        .await;
    }
}

/// Runs every job of the group in one transaction. Should a job fail, that transaction is rolled
/// back and each job runs again in a transaction of its own, so a failure stays its job's alone;
/// savepoints would cost every job two more statements to spare a rare failure this replay.
async fn commit_group(pool: &SqlitePool, group: Vec<Job>) -> (Vec<Job>, Vec<Result<AppendOutcome, StoreError>>) {
    if group.len() > 1 {
        if let Ok(outcomes) = all_or_nothing(pool, &group).await {
            return (group, outcomes.into_iter().map(Ok).collect());
        }
    }
    let mut outcomes = Vec::with_capacity(group.len());
    for job in &group {
        outcomes.push(all_or_nothing(pool, std::slice::from_ref(job)).await.map(|mut one| one.remove(0)));
    }
    (group, outcomes)
}

/// The jobs in one transaction, committed only if every one of them succeeded. Jobs with the
/// same fold settings (all of them, in a server) are appended together, so a room that several
/// callers sent events for is folded once; the group's latest "now" stands for all of them.
async fn all_or_nothing(pool: &SqlitePool, jobs: &[Job]) -> Result<Vec<AppendOutcome>, StoreError> {
    let mut tx = begin(pool).await?;
    let settings = jobs[0].settings;
    // On an error the transaction is dropped, which rolls it back.
    let outcomes = if jobs.iter().all(|job| job.settings == settings) {
        let batches: Vec<&[AccountEvent]> = jobs.iter().map(|job| job.events.as_slice()).collect();
        let now = jobs.iter().map(|job| job.now).max().unwrap_or(jobs[0].now);
        roomlog_store_sql::append_many(&mut tx, &batches, &settings, now).await?
    } else {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            outcomes.push(roomlog_store_sql::append(&mut tx, &job.events, &job.settings, job.now).await?);
        }
        outcomes
    };
    commit(tx).await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use roomlog_core::{AccountEvent, AccountSid, FoldSettings, Millis, RoomEvent, Store};
    use serde_json::json;

    use crate::SqliteStore;

    fn created(account: &AccountSid, room: usize) -> AccountEvent {
        let raw = json!({"event": "room-created", "timestamp": "2025-10-27T18:00:00.000Z",
                         "room_sid": format!("RM{room:032x}"), "room_type": "group"});
        let event: RoomEvent = serde_json::from_value(raw.clone()).unwrap();
        AccountEvent::new(account.clone(), None, event, "json", raw)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_commits_and_one_failure_stays_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = SqliteStore::open(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        let account = AccountSid::generate();
        let settings = FoldSettings { settle_window_ms: 0, room_timeout_ms: 86_400_000 };
        let now = Millis(1_761_600_000_000);
        // Room 0 holds a state the fold cannot read: appending to it fails, and only that call.
        store.append(&[created(&account, 0)], &settings, now).await.unwrap();
        sqlx::query("UPDATE rooms SET state = 'not json'").execute(&store.writer).await.unwrap();

        let calls: Vec<_> = (0..200)
            .map(|i| {
                let (store, account) = (store.clone(), account.clone());
                let mut event = created(&account, i % 100);
                event.event.timestamp = Millis(now.0 - 1_000 * i as i64);
                event.event_id = format!("e{i}");
                tokio::spawn(async move { (i, store.append(&[event], &settings, now).await) })
            })
            .collect();
        for call in calls {
            let (i, outcome) = call.await.unwrap();
            if i % 100 == 0 {
                assert!(outcome.is_err(), "call {i} appends to the unreadable room");
            } else {
                assert_eq!(outcome.unwrap().accepted, 1, "call {i}");
            }
        }
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&store.reader).await.unwrap();
        assert_eq!(events, 1 + 198, "every acknowledged event is stored, the failed calls' are not");
        let rooms: i64 = sqlx::query_scalar("SELECT count(*) FROM rooms").fetch_one(&store.reader).await.unwrap();
        assert_eq!(rooms, 100);
    }
}
