//! Leases and job runs in SQLite: the shared statements and row mapping
//! (`roomlog_store_sql::jobs`) on rusqlite; writes through the writer thread.

use roomlog_core::{JobRun, Millis, StoreError};
use roomlog_store_sql::jobs::{statements, JobRunRow};
use rusqlite::params;

use crate::connection::driver_error;
use crate::readers::Readers;
use crate::writer::Writer;

pub async fn acquire_lease(
    writer: &Writer,
    name: &str,
    holder: &str,
    now: Millis,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    writer
        .transact(move |tx| {
            let values = params![name, holder, now.0.saturating_add(ttl_ms), now.0];
            Ok(tx.0.execute(statements::ACQUIRE_LEASE, values).map_err(driver_error)? > 0)
        })
        .await
}

pub async fn release_lease(writer: &Writer, name: &str, holder: &str) -> Result<(), StoreError> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    writer
        .transact(move |tx| tx.0.execute(statements::RELEASE_LEASE, [name, holder]).map(drop).map_err(driver_error))
        .await
}

pub async fn record_job_run(writer: &Writer, run: &JobRun) -> Result<(), StoreError> {
    let row = JobRunRow::from(run);
    writer
        .transact(move |tx| {
            let values = params![
                row.name,
                row.started_ms,
                row.holder,
                row.account_sid,
                row.finished_ms,
                row.ok,
                row.rooms,
                row.message
            ];
            tx.0.execute(statements::INSERT_JOB_RUN, values).map(drop).map_err(driver_error)
        })
        .await
}

pub async fn job_runs(readers: &Readers, name: &str, limit: u32) -> Result<Vec<JobRun>, StoreError> {
    let rows: Vec<JobRunRow> = readers
        .with(|connection| {
            let mut statement = connection.prepare_cached(statements::JOB_RUNS).map_err(driver_error)?;
            let rows = statement.query_map(params![name, limit], |row| {
                Ok(JobRunRow {
                    name: row.get(0)?,
                    started_ms: row.get(1)?,
                    holder: row.get(2)?,
                    account_sid: row.get(3)?,
                    finished_ms: row.get(4)?,
                    ok: row.get(5)?,
                    rooms: row.get(6)?,
                    message: row.get(7)?,
                })
            });
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await?;
    rows.into_iter().map(JobRun::try_from).collect()
}
