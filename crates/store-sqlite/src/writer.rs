//! The writer thread: the one connection every append, revisit, rebuild, purge and import goes
//! through (SQLite allows one writer anyway), with group commit. The appends waiting at the same
//! moment go into one transaction, so many callers share one commit (one WAL sync) instead of
//! queueing for a commit each; each caller hears back only after the transaction holding its
//! events has committed and reached the disk (docs/behaviour.md §4.3: acknowledged means durable), and
//! one caller's failure never takes the others' events with it.
//!
//! Commits do not wait for the disk themselves (`synchronous = NORMAL`, see `connection`): the
//! writer hands each group's answers to the acknowledger thread and starts on the next group,
//! while the acknowledger syncs the WAL file (one `fdatasync` for every group committed since
//! its last one) and only then answers. A sync covers every frame written before it began, and
//! frames leave the WAL only through checkpoints, which sync the WAL first; so an answered
//! append is on disk exactly as with `synchronous = FULL`, and the CPU works while the disk
//! writes. Other processes' reads may see a group before it is answered; a group the disk then
//! loses was never acknowledged, and its callers retry (appends are idempotent).
//!
//! While a sync is under way the writer keeps gathering appends rather than committing a small
//! group: their answers could not go out before the next sync anyway, and every commit rewrites
//! the pages it touched (the room rows, the index tails), so fewer, larger groups write less.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use roomlog_core::{AccountEvent, AppendOutcome, FoldSettings, Millis, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::connection::driver_error;
use crate::transaction::{complete, WriterTx};

/// Calls gathered into one transaction stop joining it at this many events, bounding how long
/// the writer holds the database and how much one rollback can undo.
const MAX_GROUP_EVENTS: usize = 5_000;

/// How often a writer gathering a group looks again whether the sync in flight has ended.
const GATHER_POLL: Duration = Duration::from_micros(200);

type Reply = oneshot::Sender<Result<AppendOutcome, StoreError>>;

struct Append {
    events: Vec<AccountEvent>,
    settings: FoldSettings,
    now: Millis,
    reply: Reply,
}

/// One group's answers, sent once the WAL holding the group is on disk.
type Answers = Vec<(Reply, Result<AppendOutcome, StoreError>)>;

/// A write other than an append, given the connection and the WAL file to sync after it.
type Work = Box<dyn FnOnce(&mut Connection, &Path) + Send>;

enum Job {
    Append(Append),
    /// Any other write: runs alone, with the connection to itself.
    Run(Work),
}

/// The handle writes go through; the thread ends when every handle is dropped. The queue is
/// unbounded: each job is a request in flight, holding its events either way.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite writer stopped before answering".into())
}

impl Writer {
    /// Starts the writer and acknowledger threads on `connection`, to the database at `path`.
    pub fn start(connection: Connection, path: &Path) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel();
        let (answers, to_acknowledge) = mpsc::channel();
        let unsynced = Arc::new(AtomicUsize::new(0));
        let wal = wal_path(path);
        let acknowledger = Acknowledger { wal: wal.clone(), unsynced: unsynced.clone() };
        let committer = Committer { wal, answers, unsynced };
        let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(body)
                .map(drop)
                .map_err(|e| StoreError::Other(Box::new(e)))
        };
        spawn("roomlog-sqlite-ack", Box::new(move || acknowledger.run(to_acknowledge)))?;
        spawn("roomlog-sqlite-writer", Box::new(move || committer.run(connection, queue)))?;
        Ok(Writer { jobs })
    }

    /// Stores and folds `events` in the next group; returns once that group has committed.
    pub async fn append(
        &self,
        events: &[AccountEvent],
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Append { events: events.to_vec(), settings: *settings, now, reply };
        self.jobs.send(Job::Append(job)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs `work` in a transaction of its own, committed when it returns `Ok`; returns once
    /// the commit is on disk.
    pub async fn transact<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut WriterTx<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.with_connection(move |connection| in_transaction(connection, work)).await
    }

    /// Runs `work` on the writer's connection, between two other jobs, for work that manages
    /// its own transactions (the migrations); returns once what it committed is on disk.
    pub async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Run(Box::new(move |connection: &mut Connection, wal: &Path| {
            let _ = reply.send(work(connection).and_then(|output| sync(wal).map(|()| output)));
        }));
        self.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn in_transaction<T>(
    connection: &mut Connection,
    work: impl FnOnce(&mut WriterTx<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // IMMEDIATE: take the write lock at BEGIN, so the transaction never fails half-way to
    // upgrade a read lock while another process writes.
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(driver_error)?;
    let mut tx = WriterTx(tx);
    // On an error the transaction is dropped, which rolls it back.
    let output = work(&mut tx)?;
    tx.0.commit().map_err(driver_error)?;
    Ok(output)
}

fn wal_path(database: &Path) -> PathBuf {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Puts every frame written to the WAL so far on disk. The file is opened afresh each time, so
/// a WAL that SQLite recreated is never synced through a stale descriptor.
fn sync(wal: &Path) -> Result<(), StoreError> {
    std::fs::File::open(wal)
        .and_then(|file| file.sync_data())
        .map_err(|e| StoreError::Unavailable(format!("syncing {}: {e}", wal.display())))
}

/// The acknowledger thread: answers groups once one sync covers them.
struct Acknowledger {
    wal: PathBuf,
    /// Groups committed and not yet answered, shared with the writer.
    unsynced: Arc<AtomicUsize>,
}

impl Acknowledger {
    fn run(self, groups: mpsc::Receiver<Answers>) {
        while let Ok(first) = groups.recv() {
            let mut answers = vec![first];
            answers.extend(groups.try_iter());
            let synced = sync(&self.wal);
            let count = answers.len();
            for (reply, outcome) in answers.into_iter().flatten() {
                let outcome = match (&synced, outcome) {
                    (Err(error), Ok(_)) => Err(StoreError::Unavailable(error.to_string())),
                    (_, outcome) => outcome,
                };
                // A caller that went away (its request was cancelled) needs no answer.
                let _ = reply.send(outcome);
            }
            self.unsynced.fetch_sub(count, Ordering::AcqRel);
        }
    }
}

/// The writer thread.
struct Committer {
    wal: PathBuf,
    answers: mpsc::Sender<Answers>,
    unsynced: Arc<AtomicUsize>,
}

impl Committer {
    fn run(self, mut connection: Connection, queue: mpsc::Receiver<Job>) {
        let mut next = None;
        while let Some(job) = next.take().or_else(|| queue.recv().ok()) {
            match job {
                // A panic fails only its job: the caller's reply is dropped unanswered.
                Job::Run(work) => {
                    let _ = catch_unwind(AssertUnwindSafe(|| work(&mut connection, &self.wal)));
                }
                Job::Append(first) => {
                    let (group, after) = self.gather(first, &queue);
                    next = after;
                    tracing::trace!(calls = group.len(), "committing a group");
                    if let Ok(outcomes) = catch_unwind(AssertUnwindSafe(|| commit_group(&mut connection, &group))) {
                        self.unsynced.fetch_add(1, Ordering::AcqRel);
                        let answers = group.into_iter().map(|job| job.reply).zip(outcomes).collect();
                        if self.answers.send(answers).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The appends to commit together with `first`: those waiting now, and those arriving while
    /// an earlier group's sync is under way, up to `MAX_GROUP_EVENTS`. Also returns the job
    /// that is not an append, if one ended the gathering. (Waiting a little longer for more
    /// appends when no sync is under way was tried: it made groups no larger, only later.)
    fn gather(&self, first: Append, queue: &mpsc::Receiver<Job>) -> (Vec<Append>, Option<Job>) {
        let mut size = first.events.len();
        let mut group = vec![first];
        while size < MAX_GROUP_EVENTS {
            let job = match queue.try_recv() {
                Ok(job) => job,
                Err(_) if self.unsynced.load(Ordering::Acquire) == 0 => break,
                Err(_) => match queue.recv_timeout(GATHER_POLL) {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            match job {
                Job::Append(job) => {
                    size += job.events.len();
                    group.push(job);
                }
                other => return (group, Some(other)),
            }
        }
        (group, None)
    }
}

/// Runs every job of the group in one transaction. Should a job fail, that transaction is rolled
/// back and each job runs again in a transaction of its own, so a failure stays its job's alone;
/// savepoints would cost every job two more statements to spare a rare failure this replay.
fn commit_group(connection: &mut Connection, group: &[Append]) -> Vec<Result<AppendOutcome, StoreError>> {
    if group.len() > 1 {
        if let Ok(outcomes) = all_or_nothing(connection, group) {
            return outcomes.into_iter().map(Ok).collect();
        }
    }
    group.iter().map(|job| all_or_nothing(connection, std::slice::from_ref(job)).map(|mut one| one.remove(0))).collect()
}

/// The jobs in one transaction, committed only if every one of them succeeded. Jobs with the
/// same fold settings (all of them, in a server) are appended together, so a room that several
/// callers sent events for is folded once; the group's latest "now" stands for all of them.
fn all_or_nothing(connection: &mut Connection, jobs: &[Append]) -> Result<Vec<AppendOutcome>, StoreError> {
    in_transaction(connection, |tx| {
        let settings = jobs[0].settings;
        if jobs.iter().all(|job| job.settings == settings) {
            let batches: Vec<&[AccountEvent]> = jobs.iter().map(|job| job.events.as_slice()).collect();
            let now = jobs.iter().map(|job| job.now).max().unwrap_or(jobs[0].now);
            complete(roomlog_store_sql::append_many(tx, &batches, &settings, now))
        } else {
            jobs.iter()
                .map(|job| complete(roomlog_store_sql::append(tx, &job.events, &job.settings, job.now)))
                .collect()
        }
    })
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
        AccountEvent::new(account.clone(), None, event, "json", raw.to_string())
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
        let unreadable = |tx: &mut crate::transaction::WriterTx<'_>| {
            tx.0.execute("UPDATE rooms SET state = 'not json'", []).map_err(crate::connection::driver_error)
        };
        store.writer.transact(unreadable).await.unwrap();

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
        let events: i64 = store.readers.value("SELECT count(*) FROM events", &[]).await.unwrap().unwrap();
        assert_eq!(events, 1 + 198, "every acknowledged event is stored, the failed calls' are not");
        let rooms: i64 = store.readers.value("SELECT count(*) FROM rooms", &[]).await.unwrap().unwrap();
        assert_eq!(rooms, 100);
    }

    #[test]
    fn answers_wait_for_the_wal_sync_and_a_failed_sync_fails_them() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("a.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        for (path, synced) in [(wal, true), (dir.path().join("missing-wal"), false)] {
            let (groups, queue) = std::sync::mpsc::channel();
            let (reply, answer) = tokio::sync::oneshot::channel();
            let outcome = roomlog_core::AppendOutcome { accepted: 3, duplicates: 0 };
            groups.send(vec![(reply, Ok(outcome))]).unwrap();
            drop(groups);
            let unsynced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
            super::Acknowledger { wal: path, unsynced: unsynced.clone() }.run(queue);
            assert_eq!(unsynced.load(std::sync::atomic::Ordering::Acquire), 0);
            match answer.blocking_recv().unwrap() {
                Ok(answered) => assert!(synced && answered == outcome),
                Err(error) => assert!(!synced && matches!(error, roomlog_core::StoreError::Unavailable(_)), "{error}"),
            }
        }
    }
}
