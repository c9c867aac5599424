//! Accounts and API keys in SQLite: the shared statements and row mapping
//! (`roomlog_store_sql::accounts`) on rusqlite. Writes are rare, so they simply queue on the
//! writer thread (serialised with the data writes, and on disk before they return); reads go
//! to the reader connections.

use roomlog_core::account::{Account, ApiKey};
use roomlog_core::{AccountSid, ApiKeySid, Millis, StoreError};
use roomlog_store_sql::accounts::{statements, AccountRow, ApiKeyRow};
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
