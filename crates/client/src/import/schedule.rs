//! `serve --import-from`: the resumable import, run inside the server on a schedule so that the
//! archive keeps up with an upstream that forgets (Twilio keeps rooms 7 days). One node at a
//! time imports: the run holds a lease in the database, renewed while it works, so a dead
//! node's lease expires; the checkpoint makes each run start where the last one ended, so no
//! span is imported twice. Every run is recorded (`Store::record_job_run`) for `/readyz` and
//! the dashboard, and no failure of the upstream or the database stops the schedule.

use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use roomlog_core::{JobRun, Millis, Store};
use tokio::sync::watch;

use super::{import, ImportOptions};

use roomlog_core::store::IMPORT_JOB as JOB;
/// How long a lease lasts without renewal: a node that dies mid-run blocks the others this long.
const LEASE_TTL: Duration = Duration::from_secs(30);
/// After a failed run the next one comes sooner than the schedule: from this, doubling.
const FIRST_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct Schedule {
    pub options: ImportOptions,
    /// Between the starts of two successful runs, across all nodes.
    pub every: Duration,
}

/// Runs the schedule until `stop` turns true.
pub async fn keep_current(store: Arc<dyn Store>, schedule: Schedule, mut stop: watch::Receiver<bool>) {
    let holder = holder_id();
    let mut retry = FIRST_RETRY;
    loop {
        let wait = match turn(&store, &schedule, &holder, &mut stop).await {
            Ok(Turn::Ran { ok: true } | Turn::Skipped) => {
                retry = FIRST_RETRY;
                Wait::UntilDue
            }
            Ok(Turn::Ran { ok: false }) | Err(_) => {
                let wait = retry.min(schedule.every);
                retry = (retry * 2).min(schedule.every);
                Wait::For(wait)
            }
            Ok(Turn::Busy) => Wait::For(LEASE_TTL.min(schedule.every)),
            Ok(Turn::Stopped) => return,
        };
        let pause = match wait {
            Wait::For(pause) => pause,
            Wait::UntilDue => until_due(store.as_ref(), schedule.every).await,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

enum Turn {
    Ran {
        ok: bool,
    },
    /// Another node ran it recently enough.
    Skipped,
    /// Another node holds the lease.
    Busy,
    Stopped,
}

enum Wait {
    For(Duration),
    UntilDue,
}

/// A name for this process among the nodes sharing the database.
fn holder_id() -> String {
    let mut bytes = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("node-{}-{}", std::process::id(), bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// How long until the last successful run is `every` old (zero if there is none).
async fn until_due(store: &dyn Store, every: Duration) -> Duration {
    let last = match store.job_runs(JOB, 5).await {
        Ok(runs) => runs.into_iter().find(|run| run.ok),
        Err(_) => None,
    };
    let Some(last) = last else { return every };
    let due = last.started.0.saturating_add(i64::try_from(every.as_millis()).unwrap_or(i64::MAX));
    Duration::from_millis(u64::try_from(due.saturating_sub(Millis::now().0)).unwrap_or(0))
        .max(Duration::from_millis(50))
}

/// One turn: take the lease, run the import if it is due, record how it ended, give it back.
async fn turn(
    store: &Arc<dyn Store>,
    schedule: &Schedule,
    holder: &str,
    stop: &mut watch::Receiver<bool>,
) -> Result<Turn, roomlog_core::StoreError> {
    if !store.acquire_lease(JOB, holder, Millis::now(), ttl_ms()).await? {
        return Ok(Turn::Busy);
    }
    let every = i64::try_from(schedule.every.as_millis()).unwrap_or(i64::MAX);
    let due = match store.job_runs(JOB, 1).await?.first() {
        Some(last) if last.ok => Millis::now().0.saturating_sub(last.started.0) >= every,
        _ => true,
    };
    if !due {
        store.release_lease(JOB, holder).await?;
        return Ok(Turn::Skipped);
    }
    let started = Millis::now();
    let renew = async {
        loop {
            tokio::time::sleep(LEASE_TTL / 3).await;
            match store.acquire_lease(JOB, holder, Millis::now(), ttl_ms()).await {
                Ok(true) => {}
                Ok(false) => return "the lease was lost to another node".to_owned(),
                Err(error) => return format!("the lease could not be renewed ({error})"),
            }
        }
    };
    let (ok, rooms, account, message) = tokio::select! {
        run = import(store.clone(), &schedule.options, false) => match run {
            Ok(run) => (run.succeeded(), i64::try_from(run.totals.rooms).unwrap_or(i64::MAX), Some(run.account.clone()), run.summary()),
            Err(error) => (false, 0, None, format!("could not start: {error:#}")),
        },
        lost = renew => (false, 0, None, format!("stopped: {lost}")),
        _ = stop.changed() => {
            let _ = store.release_lease(JOB, holder).await;
            return Ok(Turn::Stopped);
        }
    };
    if ok {
        tracing::info!(from = %schedule.options.from, "scheduled import: {message}");
    } else {
        tracing::warn!(from = %schedule.options.from, "scheduled import failed: {message}");
    }
    let run = JobRun {
        name: JOB.into(),
        holder: holder.into(),
        account_sid: account,
        started,
        finished: Millis::now(),
        ok,
        rooms,
        message,
    };
    store.record_job_run(&run).await?;
    store.release_lease(JOB, holder).await?;
    Ok(Turn::Ran { ok })
}

fn ttl_ms() -> i64 {
    i64::try_from(LEASE_TTL.as_millis()).unwrap_or(i64::MAX)
}
