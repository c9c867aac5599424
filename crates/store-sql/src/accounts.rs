//! Accounts and API keys, for both SQL backends: the statements, and one mapping from a row
//! (read by each backend's driver into the plain shapes below) to the domain types.

use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::StoreError;

/// Statements both dialects accept, with `?` placeholders (`numbered` turns them into `$n`).
/// The inserts bind the row's columns in the order of `Account` (or `ApiKey`), then the
/// creation time in ms; the selects return the columns of `AccountRow` (or `ApiKeyRow`).
pub mod statements {
    pub const INSERT_ACCOUNT: &str =
        "INSERT INTO accounts (sid, auth_token, friendly_name, verify_callbacks, created_ms) VALUES (?, ?, ?, ?, ?)";
    /// `Store::upsert_account`: a known SID keeps its name and settings, only its token changes.
    pub const UPSERT_ACCOUNT: &str =
        "INSERT INTO accounts (sid, auth_token, friendly_name, verify_callbacks, created_ms) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET auth_token = excluded.auth_token";
    pub const ACCOUNT: &str = "SELECT sid, auth_token, friendly_name, verify_callbacks FROM accounts WHERE sid = ?";
    pub const ACCOUNTS: &str =
        "SELECT sid, auth_token, friendly_name, verify_callbacks FROM accounts ORDER BY created_ms, sid";
    /// Binds the flag, then the SID.
    pub const SET_VERIFY_CALLBACKS: &str = "UPDATE accounts SET verify_callbacks = ? WHERE sid = ?";
    pub const INSERT_API_KEY: &str =
        "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_hash, created_ms) VALUES (?, ?, ?, ?, ?)";
    pub const API_KEY: &str = "SELECT sid, account_sid, friendly_name, secret_hash FROM api_keys WHERE sid = ?";
    /// Binds the columns of `LiveKitKey` in order, then the creation time in ms.
    pub const INSERT_LIVEKIT_KEY: &str =
        "INSERT INTO livekit_keys (api_key, account_sid, api_secret, created_ms) VALUES (?, ?, ?, ?)";
    pub const UPSERT_LIVEKIT_KEY: &str = "INSERT INTO livekit_keys (api_key, account_sid, api_secret, created_ms)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (api_key) DO UPDATE SET account_sid = excluded.account_sid, api_secret = excluded.api_secret";
    pub const LIVEKIT_KEY: &str = "SELECT api_key, account_sid, api_secret FROM livekit_keys WHERE api_key = ?";
    pub const LIVEKIT_KEYS: &str =
        "SELECT api_key, account_sid, api_secret FROM livekit_keys ORDER BY account_sid, api_key";
    pub const DELETE_LIVEKIT_KEY: &str = "DELETE FROM livekit_keys WHERE api_key = ?";
    /// `Store::room_events`: binds account, room and the limit; returns the columns of `RawEventRow`.
    pub const ROOM_RAW_EVENTS: &str = "SELECT event_id, kind, source, ts_ms, raw FROM events
         WHERE account_sid = ? AND room_sid = ? ORDER BY ts_ms, event_id LIMIT ?";

    /// The insert `Store::put_livekit_key` runs.
    pub fn insert_livekit_key(replace: bool) -> &'static str {
        if replace {
            UPSERT_LIVEKIT_KEY
        } else {
            INSERT_LIVEKIT_KEY
        }
    }

    /// The insert `Store::insert_account` (`false`) or `Store::upsert_account` (`true`) runs.
    pub fn insert_account(replace_token: bool) -> &'static str {
        if replace_token {
            UPSERT_ACCOUNT
        } else {
            INSERT_ACCOUNT
        }
    }
}

/// An `accounts` row as `statements::ACCOUNT` and `ACCOUNTS` return it, columns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub sid: String,
    pub auth_token: String,
    pub friendly_name: String,
    pub verify_callbacks: bool,
}

/// An `api_keys` row as `statements::API_KEY` returns it, columns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub sid: String,
    pub account_sid: String,
    pub friendly_name: String,
    pub secret_hash: String,
}

/// A `livekit_keys` row as `statements::LIVEKIT_KEY(S)` return it, columns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKitKeyRow {
    pub api_key: String,
    pub account_sid: String,
    pub api_secret: String,
}

/// A SID read back from a row; one that does not parse means the database was written by
/// something other than roomlog, which callers cannot act on.
fn sid<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| StoreError::Other(Box::new(e)))
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Account, StoreError> {
        Ok(Account {
            sid: sid(&row.sid)?,
            auth_token: row.auth_token,
            friendly_name: row.friendly_name,
            verify_callbacks: row.verify_callbacks,
        })
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            sid: sid(&row.sid)?,
            account_sid: sid(&row.account_sid)?,
            friendly_name: row.friendly_name,
            secret_hash: row.secret_hash,
        })
    }
}

impl TryFrom<LiveKitKeyRow> for LiveKitKey {
    type Error = StoreError;

    fn try_from(row: LiveKitKeyRow) -> Result<LiveKitKey, StoreError> {
        Ok(LiveKitKey { api_key: row.api_key, account_sid: sid(&row.account_sid)?, api_secret: row.api_secret })
    }
}

/// A duplicate key on a plain insert, in words for the operator.
pub fn livekit_key_exists(api_key: &str) -> StoreError {
    StoreError::Conflict(format!("LiveKit API key {api_key} exists; remove it first to move or re-key it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_map_to_the_domain_and_a_foreign_sid_is_an_error() {
        let account = Account::generate("a");
        let row = AccountRow {
            sid: account.sid.to_string(),
            auth_token: account.auth_token.clone(),
            friendly_name: "a".into(),
            verify_callbacks: true,
        };
        assert_eq!(Account::try_from(row.clone()).unwrap(), account);
        let foreign = AccountRow { sid: "not a SID".into(), ..row };
        assert!(matches!(Account::try_from(foreign), Err(StoreError::Other(_))));

        let (key, _secret) = ApiKey::generate(account.sid.clone(), "k");
        let row = ApiKeyRow {
            sid: key.sid.to_string(),
            account_sid: key.account_sid.to_string(),
            friendly_name: key.friendly_name.clone(),
            secret_hash: key.secret_hash.clone(),
        };
        assert_eq!(ApiKey::try_from(row).unwrap(), key);
    }
}
