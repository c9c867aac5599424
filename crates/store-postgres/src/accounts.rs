//! Accounts, API keys and LiveKit keys in PostgreSQL (and a room's raw events, for the dashboard): the shared statements and row mapping
//! (`roomlog_store_sql::accounts`) over sqlx.

use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::store::RawEvent;
use roomlog_core::{AccountSid, ApiKeySid, Millis, RoomSid, StoreError};
use roomlog_store_sql::accounts::{livekit_key_exists, statements, AccountRow, ApiKeyRow, LiveKitKeyRow};
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

pub async fn put_livekit_key(pool: &PgPool, key: &LiveKitKey, replace: bool) -> Result<(), StoreError> {
    let done = sqlx::query(&numbered(statements::insert_livekit_key(replace)))
        .bind(&key.api_key)
        .bind(key.account_sid.as_str())
        .bind(&key.api_secret)
        .bind(Millis::now().0)
        .execute(pool)
        .await;
    match done.map_err(store_error) {
        Err(StoreError::Conflict(_)) if !replace && !find_livekit_keys(pool, Some(&key.api_key)).await?.is_empty() => {
            Err(livekit_key_exists(&key.api_key))
        }
        other => other.map(drop),
    }
}

pub async fn find_livekit_keys(pool: &PgPool, api_key: Option<&str>) -> Result<Vec<LiveKitKey>, StoreError> {
    let rows = match api_key {
        Some(key) => sqlx::query(&numbered(statements::LIVEKIT_KEY)).bind(key).fetch_all(pool).await,
        None => sqlx::query(statements::LIVEKIT_KEYS).fetch_all(pool).await,
    };
    rows.map_err(store_error)?
        .into_iter()
        .map(|row| {
            let row = LiveKitKeyRow {
                api_key: row.try_get(0).map_err(store_error)?,
                account_sid: row.try_get(1).map_err(store_error)?,
                api_secret: row.try_get(2).map_err(store_error)?,
            };
            row.try_into()
        })
        .collect()
}

pub async fn remove_livekit_key(pool: &PgPool, api_key: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(&numbered(statements::DELETE_LIVEKIT_KEY))
        .bind(api_key)
        .execute(pool)
        .await
        .map_err(store_error)?;
    Ok(done.rows_affected() > 0)
}

pub async fn room_events(
    pool: &PgPool,
    account: &AccountSid,
    room: &RoomSid,
    limit: u32,
) -> Result<Vec<RawEvent>, StoreError> {
    let rows = sqlx::query(&numbered(statements::ROOM_RAW_EVENTS))
        .bind(account.as_str())
        .bind(room.as_str())
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .map(|row| {
            Ok(RawEvent {
                event_id: row.try_get(0).map_err(store_error)?,
                kind: row.try_get(1).map_err(store_error)?,
                source: row.try_get(2).map_err(store_error)?,
                timestamp: Millis(row.try_get(3).map_err(store_error)?),
                raw: row.try_get(4).map_err(store_error)?,
            })
        })
        .collect()
}
