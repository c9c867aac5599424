//! Group commit: one writer task gathers the `append` calls waiting at the same moment into one
//! SQLite transaction, so many callers share one commit (one WAL sync) instead of queueing for a
//! commit each. Each call still runs in its own savepoint, so one caller's failure leaves the
//! others' events in, and each caller hears back only after the transaction that holds its
//! events has committed (BEHAVIOUR §4.3: acknowledged means durable).

use roomlog_core::{AccountEvent, AppendOutcome, FoldSettings, Millis, StoreError};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::writes::{begin, commit, SqliteTx};

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
        let (jobs, outcomes) = commit_group(&pool, group).await;
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            // A caller that went away (its request was cancelled) needs no answer.
            let _ = job.reply.send(outcome);
        }
    }
}

/// Runs every job of the group in one transaction; on a failed commit every job fails.
async fn commit_group(
    pool: &SqlitePool,
    group: Vec<Job>,
) -> (Vec<Job>, Vec<Result<AppendOutcome, StoreError>>) {
    let mut outcomes = Vec::with_capacity(group.len());
    let committed = async {
        let mut tx = begin(pool).await?;
        if let [job] = group.as_slice() {
            // Alone in its group: the transaction is the job's, no savepoint needed.
            let outcome = roomlog_store_sql::append(&mut tx, &job.events, &job.settings, job.now).await?;
            outcomes.push(Ok(outcome));
        } else {
            for job in &group {
                outcomes.push(in_savepoint(&mut tx, job).await?);
            }
        }
        commit(tx).await
    }
    .await;
    match committed {
        Ok(()) => (group, outcomes),
        Err(error) => {
            let failed = group.iter().map(|_| Err(copy(&error))).collect();
            (group, failed)
        }
    }
}

/// One job inside its own savepoint: its failure is rolled back and reported to it alone. The
/// outer `Err` means the transaction itself is lost.
async fn in_savepoint(
    tx: &mut SqliteTx<'static>,
    job: &Job,
) -> Result<Result<AppendOutcome, StoreError>, StoreError> {
    let mut savepoint = tx.savepoint().await?;
    match roomlog_store_sql::append(&mut savepoint, &job.events, &job.settings, job.now).await {
        Ok(outcome) => {
            commit(savepoint).await?;
            Ok(Ok(outcome))
        }
        Err(error) => {
            savepoint.rollback().await?;
            Ok(Err(error))
        }
    }
}

/// The same failure for every caller of a group whose commit failed.
fn copy(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Contention(m) => StoreError::Contention(m.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Other(e) => StoreError::Other(e.to_string().into()),
    }
}
