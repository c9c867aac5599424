//! Accounts and API keys in SQLite.

use roomlog_core::account::{Account, ApiKey};
use roomlog_core::{AccountSid, ApiKeySid, Millis, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::store_error;

pub async fn insert(pool: &SqlitePool, account: &Account, replace_token: bool) -> Result<(), StoreError> {
    let sql = if replace_token {
        "INSERT INTO accounts (sid, auth_token, friendly_name, verify_callbacks, created_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET auth_token = excluded.auth_token"
    } else {
        "INSERT INTO accounts (sid, auth_token, friendly_name, verify_callbacks, created_ms) VALUES (?, ?, ?, ?, ?)"
    };
    sqlx::query(sql)
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

fn account(row: &SqliteRow) -> Result<Account, StoreError> {
    let sid: String = row.get("sid");
    Ok(Account {
        sid: sid.parse().map_err(|e| StoreError::Other(Box::new(e)))?,
        auth_token: row.get("auth_token"),
        friendly_name: row.get("friendly_name"),
        verify_callbacks: row.get("verify_callbacks"),
    })
}

pub async fn find(pool: &SqlitePool, sid: Option<&AccountSid>) -> Result<Vec<Account>, StoreError> {
    let rows = match sid {
        Some(sid) => {
            sqlx::query("SELECT sid, auth_token, friendly_name, verify_callbacks FROM accounts WHERE sid = ?")
                .bind(sid.as_str())
                .fetch_all(pool)
                .await
        }
        None => {
            sqlx::query(
                "SELECT sid, auth_token, friendly_name, verify_callbacks FROM accounts ORDER BY created_ms, sid",
            )
            .fetch_all(pool)
            .await
        }
    }
    .map_err(store_error)?;
    rows.iter().map(account).collect()
}

pub async fn set_verify_callbacks(pool: &SqlitePool, sid: &AccountSid, verify: bool) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE accounts SET verify_callbacks = ? WHERE sid = ?")
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

pub async fn insert_key(pool: &SqlitePool, key: &ApiKey) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_hash, created_ms) VALUES (?, ?, ?, ?, ?)",
    )
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

pub async fn find_key(pool: &SqlitePool, sid: &ApiKeySid) -> Result<Option<ApiKey>, StoreError> {
    let row = sqlx::query("SELECT sid, account_sid, friendly_name, secret_hash FROM api_keys WHERE sid = ?")
        .bind(sid.as_str())
        .fetch_optional(pool)
        .await
        .map_err(store_error)?;
    row.map(|row| {
        let parse = |column: &str| -> Result<String, StoreError> { Ok(row.get::<String, _>(column)) };
        Ok(ApiKey {
            sid: parse("sid")?.parse().map_err(|e| StoreError::Other(Box::new(e)))?,
            account_sid: parse("account_sid")?.parse().map_err(|e| StoreError::Other(Box::new(e)))?,
            friendly_name: parse("friendly_name")?,
            secret_hash: parse("secret_hash")?,
        })
    })
    .transpose()
}
