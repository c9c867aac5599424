//! Accounts, API keys and LiveKit keys in SQLite (and a room's raw events, for the dashboard): the shared statements and row mapping
//! (`roomlog_store_sql::accounts`) on rusqlite. Writes are rare, so they simply queue on the
//! writer thread (serialised with the data writes, and on disk before they return); reads go
//! to the reader connections.

use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::store::RawEvent;
use roomlog_core::{AccountSid, ApiKeySid, Millis, RoomSid, StoreError};
use roomlog_store_sql::accounts::{livekit_key_exists, statements, AccountRow, ApiKeyRow, LiveKitKeyRow};
use rusqlite::{params, OptionalExtension};

use crate::connection::driver_error;
use crate::readers::Readers;
use crate::writer::Writer;

pub async fn insert(writer: &Writer, account: &Account, replace_token: bool) -> Result<(), StoreError> {
    let account = account.clone();
    writer
        .transact(move |tx| {
            let sql = statements::insert_account(replace_token);
            let mut statement = tx.0.prepare_cached(sql).map_err(driver_error)?;
            statement
                .execute(params![
                    account.sid.as_str(),
                    account.auth_token,
                    account.friendly_name,
                    account.verify_callbacks,
                    Millis::now().0
                ])
                .map_err(driver_error)?;
            Ok(())
        })
        .await
}

fn account(row: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        sid: row.get(0)?,
        auth_token: row.get(1)?,
        friendly_name: row.get(2)?,
        verify_callbacks: row.get(3)?,
    })
}

pub async fn find(readers: &Readers, sid: Option<&AccountSid>) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = readers
        .with(|connection| {
            let rows = match sid {
                Some(sid) => connection
                    .prepare_cached(statements::ACCOUNT)
                    .and_then(|mut statement| statement.query_map([sid.as_str()], account)?.collect()),
                None => connection
                    .prepare_cached(statements::ACCOUNTS)
                    .and_then(|mut statement| statement.query_map([], account)?.collect()),
            };
            rows.map_err(driver_error)
        })
        .await?;
    rows.into_iter().map(Account::try_from).collect()
}

pub async fn set_verify_callbacks(writer: &Writer, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
    let sid = sid.clone();
    writer
        .transact(move |tx| {
            let changed =
                tx.0.execute(statements::SET_VERIFY_CALLBACKS, params![verify, sid.as_str()]).map_err(driver_error)?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
}

pub async fn insert_key(writer: &Writer, key: &ApiKey) -> Result<(), StoreError> {
    let key = key.clone();
    writer
        .transact(move |tx| {
            let values = params![
                key.sid.as_str(),
                key.account_sid.as_str(),
                key.friendly_name,
                key.secret_hash,
                Millis::now().0
            ];
            tx.0.execute(statements::INSERT_API_KEY, values).map_err(driver_error)?;
            Ok(())
        })
        .await
}

pub async fn find_key(readers: &Readers, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
    let row: Option<ApiKeyRow> = readers
        .with(|connection| {
            let mut statement = connection.prepare_cached(statements::API_KEY).map_err(driver_error)?;
            statement
                .query_row([sid.as_str()], |row| {
                    Ok(ApiKeyRow {
                        sid: row.get(0)?,
                        account_sid: row.get(1)?,
                        friendly_name: row.get(2)?,
                        secret_hash: row.get(3)?,
                    })
                })
                .optional()
                .map_err(driver_error)
        })
        .await?;
    row.map(ApiKey::try_from).transpose()
}

pub async fn put_livekit_key(writer: &Writer, key: &LiveKitKey, replace: bool) -> Result<(), StoreError> {
    let key = key.clone();
    writer
        .transact(move |tx| {
            let values = params![key.api_key, key.account_sid.as_str(), key.api_secret, Millis::now().0];
            match tx.0.execute(statements::insert_livekit_key(replace), values).map_err(driver_error) {
                Err(StoreError::Conflict(_)) if !replace && exists(tx, &key.api_key)? => {
                    Err(livekit_key_exists(&key.api_key))
                }
                other => other.map(drop),
            }
        })
        .await
}

fn exists(tx: &crate::transaction::WriterTx<'_>, api_key: &str) -> Result<bool, StoreError> {
    tx.0.prepare_cached(statements::LIVEKIT_KEY)
        .and_then(|mut statement| statement.exists([api_key]))
        .map_err(driver_error)
}

pub async fn find_livekit_keys(readers: &Readers, api_key: Option<&str>) -> Result<Vec<LiveKitKey>, StoreError> {
    let row = |row: &rusqlite::Row<'_>| {
        Ok(LiveKitKeyRow { api_key: row.get(0)?, account_sid: row.get(1)?, api_secret: row.get(2)? })
    };
    let rows: Vec<LiveKitKeyRow> = readers
        .with(|connection| {
            let rows = match api_key {
                Some(key) => connection
                    .prepare_cached(statements::LIVEKIT_KEY)
                    .and_then(|mut statement| statement.query_map([key], row)?.collect()),
                None => connection
                    .prepare_cached(statements::LIVEKIT_KEYS)
                    .and_then(|mut statement| statement.query_map([], row)?.collect()),
            };
            rows.map_err(driver_error)
        })
        .await?;
    rows.into_iter().map(LiveKitKey::try_from).collect()
}

pub async fn remove_livekit_key(writer: &Writer, api_key: &str) -> Result<bool, StoreError> {
    let api_key = api_key.to_owned();
    writer
        .transact(move |tx| {
            let removed = tx.0.execute(statements::DELETE_LIVEKIT_KEY, [api_key.as_str()]).map_err(driver_error)?;
            Ok(removed > 0)
        })
        .await
}

pub async fn room_events(
    readers: &Readers,
    account: &AccountSid,
    room: &RoomSid,
    limit: u32,
) -> Result<Vec<RawEvent>, StoreError> {
    readers
        .with(|connection| {
            let mut statement = connection.prepare_cached(statements::ROOM_RAW_EVENTS).map_err(driver_error)?;
            let rows = statement.query_map(params![account.as_str(), room.as_str(), limit], |row| {
                Ok(RawEvent {
                    event_id: row.get(0)?,
                    kind: row.get(1)?,
                    source: row.get(2)?,
                    timestamp: Millis(row.get(3)?),
                    raw: row.get(4)?,
                })
            });
            rows.and_then(Iterator::collect).map_err(driver_error)
        })
        .await
}
