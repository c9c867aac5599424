//! Leases and job runs in PostgreSQL: the shared statements and row mapping
//! (`roomlog_store_sql::jobs`) over sqlx.

use roomlog_core::{JobRun, Millis, StoreError};
use roomlog_store_sql::jobs::{statements, JobRunRow};
use roomlog_store_sql::numbered;
use sqlx::{PgPool, Row};

use crate::store_error;

pub async fn acquire_lease(
    pool: &PgPool,
    name: &str,
    holder: &str,
    now: Millis,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&numbered(statements::ACQUIRE_LEASE))
        .bind(name)
        .bind(holder)
        .bind(now.0.saturating_add(ttl_ms))
        .bind(now.0)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

pub async fn release_lease(pool: &PgPool, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query(&numbered(statements::RELEASE_LEASE))
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn record_job_run(pool: &PgPool, run: &JobRun) -> Result<(), StoreError> {
    let row = JobRunRow::from(run);
    sqlx::query(&numbered(statements::INSERT_JOB_RUN))
        .bind(row.name)
        .bind(row.started_ms)
        .bind(row.holder)
        .bind(row.account_sid)
        .bind(row.finished_ms)
        .bind(row.ok)
        .bind(row.rooms)
        .bind(row.message)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn job_runs(pool: &PgPool, name: &str, limit: u32) -> Result<Vec<JobRun>, StoreError> {
    let rows = sqlx::query(&numbered(statements::JOB_RUNS))
        .bind(name)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .map(|row| {
            let row = JobRunRow {
                name: row.try_get(0).map_err(store_error)?,
                started_ms: row.try_get(1).map_err(store_error)?,
                holder: row.try_get(2).map_err(store_error)?,
                account_sid: row.try_get(3).map_err(store_error)?,
                finished_ms: row.try_get(4).map_err(store_error)?,
                ok: row.try_get(5).map_err(store_error)?,
                rooms: row.try_get(6).map_err(store_error)?,
                message: row.try_get(7).map_err(store_error)?,
            };
            row.try_into()
        })
        .collect()
}
