//! Accounts and API keys in PostgreSQL.

use roomlog_core::account::{Account, ApiKey};
use roomlog_core::{AccountSid, ApiKeySid, Millis, StoreError};
use roomlog_store_sql::{numbered, statements};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::store_error;

fn parse<T: std::str::FromStr>(text: String) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Other(Box::new(e)))
}

pub async fn insert(pool: &PgPool, account: &Account, replace_token: bool) -> Result<(), StoreError> {
    let sql = numbered(if replace_token { statements::UPSERT_ACCOUNT } else { statements::INSERT_ACCOUNT });
    sqlx::query(&sql)
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
    Ok(Account {
        sid: parse(row.get("sid"))?,
        auth_token: row.get("auth_token"),
        friendly_name: row.get("friendly_name"),
        verify_callbacks: row.get("verify_callbacks"),
    })
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
        Ok(ApiKey {
            sid: parse(row.get("sid"))?,
            account_sid: parse(row.get("account_sid"))?,
            friendly_name: row.get("friendly_name"),
            secret_hash: row.get("secret_hash"),
        })
    })
    .transpose()
}
