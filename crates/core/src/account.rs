//! Accounts and API keys: the credentials of HTTP Basic auth (docs/behaviour.md §3).

use std::fmt;

use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::sid::{AccountSid, ApiKeySid};

/// An account. Its auth token is kept usable (not hashed): it is also the HMAC key that
/// verifies the account's status callbacks (docs/behaviour.md §4.1).
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub sid: AccountSid,
    pub auth_token: String,
    pub friendly_name: String,
    /// Whether callbacks must carry a valid `X-Twilio-Signature`; on unless an operator turns
    /// it off for local testing.
    pub verify_callbacks: bool,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("sid", &self.sid)
            .field("auth_token", &"[redacted]")
            .field("friendly_name", &self.friendly_name)
            .field("verify_callbacks", &self.verify_callbacks)
            .finish()
    }
}

impl Account {
    /// The credentials as lines a shell can paste (`export ROOMLOG_…=…`), shown once when an
    /// account is created: the client commands read these two variables.
    pub fn shell_exports(&self) -> String {
        format!("  export ROOMLOG_ACCOUNT_SID={}\n  export ROOMLOG_AUTH_TOKEN={}", self.sid, self.auth_token)
    }

    /// A new account with a random SID and a 32-hex-digit auth token, as Twilio issues them.
    pub fn generate(friendly_name: &str) -> Account {
        let mut token = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut token);
        Account {
            sid: AccountSid::generate(),
            auth_token: hex::encode(token),
            friendly_name: friendly_name.to_owned(),
            verify_callbacks: true,
        }
    }

    pub fn token_matches(&self, presented: &str) -> bool {
        self.auth_token.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// An API key; only a hash of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub sid: ApiKeySid,
    pub account_sid: AccountSid,
    pub friendly_name: String,
    pub secret_hash: String,
}

impl ApiKey {
    /// A new key and its secret, which is shown once and never stored.
    pub fn generate(account_sid: AccountSid, friendly_name: &str) -> (ApiKey, String) {
        let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        let key = ApiKey {
            sid: ApiKeySid::generate(),
            account_sid,
            friendly_name: friendly_name.to_owned(),
            secret_hash: hash_secret(&secret),
        };
        (key, secret)
    }

    pub fn secret_matches(&self, presented: &str) -> bool {
        hash_secret(presented).as_bytes().ct_eq(self.secret_hash.as_bytes()).into()
    }
}

/// A LiveKit API key whose signed webhooks its account accepts (docs/behaviour.md §4.4). The secret
/// is kept as given (it is the HMAC key of every webhook token) and never shown again.
#[derive(Clone, PartialEq, Eq)]
pub struct LiveKitKey {
    pub api_key: String,
    pub account_sid: AccountSid,
    pub api_secret: String,
}

impl fmt::Debug for LiveKitKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveKitKey")
            .field("api_key", &self.api_key)
            .field("account_sid", &self.account_sid)
            .field("api_secret", &"[redacted]")
            .finish()
    }
}

/// Secrets are 190 bits of randomness, so one SHA-256 suffices (no password stretching needed).
pub fn hash_secret(secret: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_matches_its_secret_only_and_does_not_store_it() {
        let (key, secret) = ApiKey::generate(AccountSid::generate(), "ci");
        assert!(key.secret_matches(&secret));
        assert!(!key.secret_matches("wrong"));
        assert!(!key.secret_hash.contains(&secret));
    }

    #[test]
    fn debug_output_never_shows_the_auth_token() {
        let account = Account::generate("main");
        assert!(!format!("{account:?}").contains(&account.auth_token));
        assert!(account.token_matches(&account.auth_token.clone()));
    }
}
