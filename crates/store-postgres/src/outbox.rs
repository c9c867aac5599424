//! The outbox in PostgreSQL: the shared statements and rows (`roomlog_store_sql::outbox`) over
//! sqlx. A claim skips rows other nodes are claiming (`FOR UPDATE SKIP LOCKED`), and a lease
//! left by a dead node expires.

use roomlog_core::outbox::{Attempt, FailedMessage, Message, TargetKey, TargetState, WebhookEndpoint};
use roomlog_core::{AccountSid, Millis, StoreError};
use roomlog_store_sql::numbered;
use roomlog_store_sql::outbox::{
    expires, recorded, skipped, statements, target_state, EndpointRow, FailedRow, MessageRow,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::store_error;

pub async fn set_forward_targets(pool: &PgPool, account: &AccountSid, urls: &[String]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    sqlx::query(&numbered(statements::CLEAR_FORWARD_TARGETS))
        .bind(account.as_str())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    for (position, url) in urls.iter().enumerate() {
        sqlx::query(&numbered(statements::INSERT_FORWARD_TARGET))
            .bind(account.as_str())
            .bind(position as i64)
            .bind(url)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
    }
    tx.commit().await.map_err(store_error)
}

pub async fn forward_targets(pool: &PgPool, account: &AccountSid) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(&numbered(statements::FORWARD_TARGETS))
        .bind(account.as_str())
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    Ok(rows.into_iter().map(|(url,)| url).collect())
}

pub async fn insert_endpoint(pool: &PgPool, e: &WebhookEndpoint) -> Result<(), StoreError> {
    sqlx::query(&numbered(statements::INSERT_ENDPOINT))
        .bind(&e.id)
        .bind(e.account_sid.as_str())
        .bind(&e.url)
        .bind(&e.secret)
        .bind(Millis::now().0)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn endpoints(
    pool: &PgPool,
    account: Option<&AccountSid>,
    id: Option<&str>,
) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let rows: Vec<(String, String, String, String)> = match (account, id) {
        (_, Some(id)) => sqlx::query_as(&numbered(statements::ENDPOINT)).bind(id).fetch_all(pool).await,
        (Some(account), None) => {
            sqlx::query_as(&numbered(statements::ACCOUNT_ENDPOINTS)).bind(account.as_str()).fetch_all(pool).await
        }
        (None, None) => sqlx::query_as(statements::ALL_ENDPOINTS).fetch_all(pool).await,
    }
    .map_err(store_error)?;
    rows.into_iter()
        .map(|(id, account_sid, url, secret)| WebhookEndpoint::try_from(EndpointRow { id, account_sid, url, secret }))
        .collect()
}

pub async fn remove_endpoint(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(&numbered(statements::DELETE_ENDPOINT)).bind(id).execute(pool).await.map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

fn message_row(row: &PgRow) -> Result<MessageRow, sqlx::Error> {
    Ok(MessageRow {
        seq: row.try_get(0)?,
        id: row.try_get(1)?,
        account_sid: row.try_get(2)?,
        kind: row.try_get(3)?,
        target: row.try_get(4)?,
        endpoint_id: row.try_get(5)?,
        room_sid: row.try_get(6)?,
        body: row.try_get(7)?,
        idempotency_token: row.try_get(8)?,
        created_ms: row.try_get(9)?,
        expires_ms: row.try_get(10)?,
        attempts: row.try_get(11)?,
        last_error: row.try_get(12)?,
    })
}

pub async fn claim(
    pool: &PgPool,
    holder: &str,
    now: Millis,
    lease_ms: i64,
    per_target: u32,
    limit: u32,
    skip: &[TargetKey],
) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query(statements::CLAIM_POSTGRES)
        .bind(holder)
        .bind(now.0 + lease_ms)
        .bind(now.0)
        .bind(i64::from(per_target))
        .bind(i64::from(limit))
        .bind(skipped(skip))
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    let mut messages = rows
        .iter()
        .map(|row| message_row(row).map_err(store_error).and_then(Message::try_from))
        .collect::<Result<Vec<_>, _>>()?;
    messages.sort_by_key(|m| m.seq);
    Ok(messages)
}

pub async fn finish(
    pool: &PgPool,
    holder: &str,
    finished: &[(Message, Attempt)],
    now: Millis,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(store_error)?;
    for (message, attempt) in finished {
        let m = &message.message;
        let r = recorded(attempt, now);
        let sql = numbered(r.statement);
        let mut statement = sqlx::query(&sql);
        if let Some(at) = r.next_attempt {
            statement = statement.bind(at);
        }
        if let Some(error) = r.error {
            statement = statement.bind(error);
        }
        statement.bind(&m.id).bind(holder).execute(&mut *tx).await.map_err(store_error)?;
        sqlx::query(&numbered(statements::TARGET_OUTCOME))
            .bind(m.account_sid.as_str())
            .bind(&m.target)
            .bind(r.error)
            .bind(r.error_at)
            .bind(r.delivered_at)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
    }
    tx.commit().await.map_err(store_error)
}

pub async fn release(pool: &PgPool, id: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query(&numbered(statements::RELEASE)).bind(id).bind(holder).execute(pool).await.map_err(store_error)?;
    Ok(())
}

pub async fn failed(pool: &PgPool) -> Result<Vec<FailedMessage>, StoreError> {
    let rows = sqlx::query(statements::FAILED_MESSAGES).fetch_all(pool).await.map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let row = FailedRow {
                id: row.try_get(0).map_err(store_error)?,
                account_sid: row.try_get(1).map_err(store_error)?,
                kind: row.try_get(2).map_err(store_error)?,
                target: row.try_get(3).map_err(store_error)?,
                room_sid: row.try_get(4).map_err(store_error)?,
                attempts: row.try_get(5).map_err(store_error)?,
                last_error: row.try_get(6).map_err(store_error)?,
            };
            FailedMessage::try_from(row)
        })
        .collect()
}

pub async fn retry_failed(pool: &PgPool, id: Option<&str>, now: Millis) -> Result<u64, StoreError> {
    let done = match id {
        Some(id) => {
            sqlx::query(&numbered(statements::RETRY_ONE)).bind(now.0).bind(expires(now).0).bind(id).execute(pool).await
        }
        None => sqlx::query(&numbered(statements::RETRY_ALL)).bind(now.0).bind(expires(now).0).execute(pool).await,
    }
    .map_err(store_error)?;
    Ok(done.rows_affected())
}

pub async fn target_states(pool: &PgPool, account: &AccountSid) -> Result<Vec<TargetState>, StoreError> {
    let a = account.as_str();
    let rows: Vec<(String, i64, i64, Option<String>)> = sqlx::query_as(&numbered(statements::TARGET_STATES))
        .bind(a)
        .bind(a)
        .bind(a)
        .bind(a)
        .bind(a)
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    Ok(rows.into_iter().map(|(t, p, f, e)| target_state(t, p, f, e)).collect())
}
