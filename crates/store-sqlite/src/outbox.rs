//! The outbox in SQLite: the shared statements and rows (`roomlog_store_sql::outbox`) on
//! rusqlite; every write through the writer thread, which also makes a claim atomic.

use roomlog_core::outbox::{Attempt, FailedMessage, Message, TargetKey, TargetState, WebhookEndpoint};
use roomlog_core::{AccountSid, Millis, StoreError};
use roomlog_store_sql::outbox::{
    expires, recorded, skipped, statements, target_state, EndpointRow, FailedRow, MessageRow,
};
use rusqlite::params;

use crate::connection::driver_error;
use crate::readers::Readers;
use crate::writer::Writer;

pub async fn set_forward_targets(writer: &Writer, account: &AccountSid, urls: &[String]) -> Result<(), StoreError> {
    let (account, urls) = (account.clone(), urls.to_vec());
    writer
        .transact(move |tx| {
            tx.0.execute(statements::CLEAR_FORWARD_TARGETS, [account.as_str()]).map_err(driver_error)?;
            for (position, url) in urls.iter().enumerate() {
                tx.0.execute(statements::INSERT_FORWARD_TARGET, params![account.as_str(), position as i64, url])
                    .map_err(driver_error)?;
            }
            Ok(())
        })
        .await
}

pub async fn forward_targets(readers: &Readers, account: &AccountSid) -> Result<Vec<String>, StoreError> {
    readers
        .with(|c| {
            let mut statement = c.prepare_cached(statements::FORWARD_TARGETS).map_err(driver_error)?;
            let rows = statement.query_map([account.as_str()], |row| row.get(0));
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await
}

pub async fn insert_endpoint(writer: &Writer, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
    let e = endpoint.clone();
    writer
        .transact(move |tx| {
            let values = params![e.id, e.account_sid.as_str(), e.url, e.secret, Millis::now().0];
            tx.0.execute(statements::INSERT_ENDPOINT, values).map(drop).map_err(driver_error)
        })
        .await
}

pub async fn endpoints(
    readers: &Readers,
    account: Option<&AccountSid>,
    id: Option<&str>,
) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let rows: Vec<EndpointRow> = readers
        .with(|c| {
            let read = |row: &rusqlite::Row<'_>| {
                Ok(EndpointRow { id: row.get(0)?, account_sid: row.get(1)?, url: row.get(2)?, secret: row.get(3)? })
            };
            let rows = match (account, id) {
                (_, Some(id)) => {
                    c.prepare_cached(statements::ENDPOINT).and_then(|mut s| s.query_map([id], read)?.collect())
                }
                (Some(account), None) => c
                    .prepare_cached(statements::ACCOUNT_ENDPOINTS)
                    .and_then(|mut s| s.query_map([account.as_str()], read)?.collect()),
                (None, None) => {
                    c.prepare_cached(statements::ALL_ENDPOINTS).and_then(|mut s| s.query_map([], read)?.collect())
                }
            };
            rows.map_err(driver_error)
        })
        .await?;
    rows.into_iter().map(WebhookEndpoint::try_from).collect()
}

pub async fn remove_endpoint(writer: &Writer, id: &str) -> Result<bool, StoreError> {
    let id = id.to_owned();
    writer.transact(move |tx| Ok(tx.0.execute(statements::DELETE_ENDPOINT, [id]).map_err(driver_error)? > 0)).await
}

fn message_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        seq: row.get(0)?,
        id: row.get(1)?,
        account_sid: row.get(2)?,
        kind: row.get(3)?,
        target: row.get(4)?,
        endpoint_id: row.get(5)?,
        room_sid: row.get(6)?,
        body: row.get(7)?,
        idempotency_token: row.get(8)?,
        created_ms: row.get(9)?,
        expires_ms: row.get(10)?,
        attempts: row.get(11)?,
        last_error: row.get(12)?,
    })
}

pub async fn claim(
    writer: &Writer,
    holder: &str,
    now: Millis,
    lease_ms: i64,
    per_target: u32,
    limit: u32,
    skip: &[TargetKey],
) -> Result<Vec<Message>, StoreError> {
    let holder = holder.to_owned();
    let skip = serde_json::to_string(&skipped(skip)).map_err(|e| StoreError::Other(Box::new(e)))?;
    let rows: Vec<MessageRow> = writer
        .transact(move |tx| {
            let mut statement = tx.0.prepare_cached(statements::CLAIM_SQLITE).map_err(driver_error)?;
            let rows =
                statement.query_map(params![holder, now.0 + lease_ms, now.0, per_target, limit, skip], message_row);
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await?;
    let mut messages = rows.into_iter().map(Message::try_from).collect::<Result<Vec<_>, _>>()?;
    messages.sort_by_key(|m| m.seq);
    Ok(messages)
}

pub async fn finish(
    writer: &Writer,
    holder: &str,
    finished: &[(Message, Attempt)],
    now: Millis,
) -> Result<(), StoreError> {
    let (holder, finished) = (holder.to_owned(), finished.to_vec());
    writer
        .transact(move |tx| {
            for (message, attempt) in &finished {
                let m = &message.message;
                let r = recorded(attempt, now);
                let mut binds: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(4);
                if let Some(at) = &r.next_attempt {
                    binds.push(at);
                }
                if let Some(error) = &r.error {
                    binds.push(error);
                }
                binds.extend([&m.id as &dyn rusqlite::ToSql, &holder]);
                tx.0.prepare_cached(r.statement).and_then(|mut s| s.execute(binds.as_slice())).map_err(driver_error)?;
                let outcome = params![m.account_sid.as_str(), m.target, r.error, r.error_at, r.delivered_at];
                tx.0.prepare_cached(statements::TARGET_OUTCOME)
                    .and_then(|mut s| s.execute(outcome))
                    .map_err(driver_error)?;
            }
            Ok(())
        })
        .await
}

pub async fn release(writer: &Writer, id: &str, holder: &str) -> Result<(), StoreError> {
    let (id, holder) = (id.to_owned(), holder.to_owned());
    writer
        .transact(move |tx| tx.0.execute(statements::RELEASE, params![id, holder]).map(drop).map_err(driver_error))
        .await
}

pub async fn failed(readers: &Readers) -> Result<Vec<FailedMessage>, StoreError> {
    let rows: Vec<FailedRow> = readers
        .with(|c| {
            let mut statement = c.prepare_cached(statements::FAILED_MESSAGES).map_err(driver_error)?;
            let rows = statement.query_map([], |row| {
                Ok(FailedRow {
                    id: row.get(0)?,
                    account_sid: row.get(1)?,
                    kind: row.get(2)?,
                    target: row.get(3)?,
                    room_sid: row.get(4)?,
                    attempts: row.get(5)?,
                    last_error: row.get(6)?,
                })
            });
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await?;
    rows.into_iter().map(FailedMessage::try_from).collect()
}

pub async fn retry_failed(writer: &Writer, id: Option<&str>, now: Millis) -> Result<u64, StoreError> {
    let id = id.map(str::to_owned);
    writer
        .transact(move |tx| {
            let changed = match &id {
                Some(id) => tx.0.execute(statements::RETRY_ONE, params![now.0, expires(now).0, id]),
                None => tx.0.execute(statements::RETRY_ALL, params![now.0, expires(now).0]),
            };
            Ok(changed.map_err(driver_error)? as u64)
        })
        .await
}

pub async fn target_states(readers: &Readers, account: &AccountSid) -> Result<Vec<TargetState>, StoreError> {
    readers
        .with(|c| {
            let mut statement = c.prepare_cached(statements::TARGET_STATES).map_err(driver_error)?;
            let a = account.as_str();
            let rows = statement.query_map(params![a, a, a, a, a], |row| {
                Ok(target_state(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            });
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await
}
