//! Leases and job runs (the scheduled import), for both SQL backends: the statements, and the
//! mapping from a row to `JobRun`.

use roomlog_core::{JobRun, Millis, StoreError};

/// Statements both dialects accept, with `?` placeholders (`numbered` turns them into `$n`).
pub mod statements {
    /// Binds name, holder, the new expiry, then `now`: takes a free or expired lease, or
    /// renews one the holder has; changes no row when another holder's lease is still valid.
    pub const ACQUIRE_LEASE: &str = "INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
         WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?";
    /// Binds name, holder.
    pub const RELEASE_LEASE: &str = "DELETE FROM leases WHERE name = ? AND holder = ?";
    /// Binds the columns of `JobRunRow` in order.
    pub const INSERT_JOB_RUN: &str = "INSERT INTO job_runs
         (name, started_ms, holder, account_sid, finished_ms, ok, rooms, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    /// Binds name and limit; returns the columns of `JobRunRow`.
    pub const JOB_RUNS: &str = "SELECT name, started_ms, holder, account_sid, finished_ms, ok, rooms, message
         FROM job_runs WHERE name = ? ORDER BY started_ms DESC, holder LIMIT ?";
}

/// A `job_runs` row, columns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRow {
    pub name: String,
    pub started_ms: i64,
    pub holder: String,
    pub account_sid: Option<String>,
    pub finished_ms: i64,
    pub ok: bool,
    pub rooms: i64,
    pub message: String,
}

impl From<&JobRun> for JobRunRow {
    fn from(run: &JobRun) -> JobRunRow {
        JobRunRow {
            name: run.name.clone(),
            started_ms: run.started.0,
            holder: run.holder.clone(),
            account_sid: run.account_sid.as_ref().map(ToString::to_string),
            finished_ms: run.finished.0,
            ok: run.ok,
            rooms: run.rooms,
            message: run.message.clone(),
        }
    }
}

impl TryFrom<JobRunRow> for JobRun {
    type Error = StoreError;

    fn try_from(row: JobRunRow) -> Result<JobRun, StoreError> {
        let account_sid = row.account_sid.map(|s| s.parse()).transpose().map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(JobRun {
            name: row.name,
            holder: row.holder,
            account_sid,
            started: Millis(row.started_ms),
            finished: Millis(row.finished_ms),
            ok: row.ok,
            rooms: row.rooms,
            message: row.message,
        })
    }
}
