//! Accounts and API keys in PostgreSQL: the shared statements and row mapping
//! (`roomlog_store_sql::accounts`) over sqlx.

use roomlog_core::account::{Account, ApiKey};
use roomlog_core::{AccountSid, ApiKeySid, Millis, StoreError};
use roomlog_store_sql::accounts::{statements, AccountRow, ApiKeyRow};
use roomlog_store_sql::numbered;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::store_error;

pub async fn insert(pool: &PgPool, account: &Account, replace_token: bool) -> Result<(), StoreError> {
    sqlx::query(&numbered(statements::insert_account(replace_token)))
        .bind(account.sid.as_str())
        .bind(&account.auth_token)
        .bind(&account.friendly_name)
        .bind(account.verify_callbacks)
        .bind(Millis::now().0)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(())
}

fn account(row: PgRow) -> Result<Account, StoreError> {
    let row = AccountRow {
        sid: row.try_get(0).map_err(store_error)?,
        auth_token: row.try_get(1).map_err(store_error)?,
        friendly_name: row.try_get(2).map_err(store_error)?,
        verify_callbacks: row.try_get(3).map_err(store_error)?,
    };
    row.try_into()
}

pub async fn find(pool: &PgPool, sid: Option<&AccountSid>) -> Result<Vec<Account>, StoreError> {
    let rows = match sid {
        Some(sid) => sqlx::query(&numbered(statements::ACCOUNT)).bind(sid.as_str()).fetch_all(pool).await,
        None => sqlx::query(statements::ACCOUNTS).fetch_all(pool).await,
    };
    rows.map_err(store_error)?.into_iter().map(account).collect()
}

pub async fn set_verify_callbacks(pool: &PgPool, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
    let done = sqlx::query(&numbered(statements::SET_VERIFY_CALLBACKS))
        .bind(verify)
        .bind(sid.as_str())
        .execute(pool)
        .await
        .map_err(store_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn insert_key(pool: &PgPool, key: &ApiKey) -> Result<(), StoreError> {
    sqlx::query(&numbered(statements::INSERT_API_KEY))
        .bind(key.sid.as_str())
        .bind(key.account_sid.as_str())
        .bind(&key.friendly_name)
        .bind(&key.secret_hash)
        .bind(Millis::now().0)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub async fn find_key(pool: &PgPool, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
    let row = sqlx::query(&numbered(statements::API_KEY))
        .bind(sid.as_str())
        .fetch_optional(pool)
        .await
        .map_err(store_error)?;
    row.map(|row| {
        let row = ApiKeyRow {
            sid: row.try_get(0).map_err(store_error)?,
            account_sid: row.try_get(1).map_err(store_error)?,
            friendly_name: row.try_get(2).map_err(store_error)?,
            secret_hash: row.try_get(3).map_err(store_error)?,
        };
        row.try_into()
    })
    .transpose()
}
