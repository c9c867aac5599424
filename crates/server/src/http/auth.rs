//! HTTP Basic auth with an account's auth token or an API key (docs/behaviour.md §3). Every comparison
//! is constant-time; verified credentials are cached briefly so reads do not query them each time.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use roomlog_core::account::Account;
use roomlog_core::{AccountSid, ApiKeySid, Store};

use crate::credential_cache::Credential;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The account a request acts for, once its credentials are verified.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub account: AccountSid,
}

fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let header = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}

async fn lookup(store: &dyn Store, username: &str) -> Result<Option<Credential>, ApiError> {
    if let Ok(sid) = username.parse::<AccountSid>() {
        return Ok(store.account(&sid).await?.map(Credential::Account));
    }
    if let Ok(sid) = username.parse::<ApiKeySid>() {
        return Ok(store.api_key(&sid).await?.map(Credential::Key));
    }
    Ok(None)
}

/// The account a status callback names, through the same positive-only cache as Basic auth: a
/// new account is found at once, a rotated token or changed setting within `TTL`. Spares each
/// callback a database round trip under a burst.
pub async fn callback_account(state: &AppState, sid: &AccountSid) -> Result<Option<Account>, ApiError> {
    if let Some(found) = state.credentials.get(sid.as_str()) {
        if let Credential::Account(account) = found.as_ref() {
            return Ok(Some(account.clone()));
        }
    }
    let Some(account) = state.store.account(sid).await? else { return Ok(None) };
    state.credentials.put(sid.as_str(), Credential::Account(account.clone()));
    Ok(Some(account))
}

/// Verifies `username:secret` against the store (through the cache).
pub async fn authenticate(state: &AppState, username: &str, secret: &str) -> Result<AccountSid, ApiError> {
    let credential = match state.credentials.get(username) {
        Some(found) => found,
        None => match lookup(state.store.as_ref(), username).await? {
            Some(found) => state.credentials.put(username, found),
            None => return Err(ApiError::unauthorized()),
        },
    };
    match credential.as_ref() {
        Credential::Account(account) if account.token_matches(secret) => Ok(account.sid.clone()),
        Credential::Key(key) if key.secret_matches(secret) => Ok(key.account_sid.clone()),
        _ => Err(ApiError::unauthorized()),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (username, secret) = basic_credentials(parts).ok_or_else(ApiError::unauthorized)?;
        let account = authenticate(state, &username, &secret).await?;
        Ok(Authenticated { account })
    }
}
