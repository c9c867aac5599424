//! Dashboard sessions: HMAC-SHA256-signed, expiring session cookies, the CSRF tokens of the
//! dashboard's forms, and reading/writing the `Cookie` headers that carry them.

use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use roomlog_core::AccountSid;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The signed-in session.
pub const SESSION_COOKIE: &str = "roomlog_session";
/// The nonce the sign-in form's CSRF token is bound to, set when the form is served.
pub const SIGN_IN_COOKIE: &str = "roomlog_sign_in";
/// A session lasts one working day; the expiry is signed, so the cookie's `Max-Age` is only a hint.
pub const SESSION_TTL_SECS: i64 = 8 * 3600;
pub const SIGN_IN_TTL_SECS: i64 = 3600;

/// The key cookies and CSRF tokens are signed with. It is derived from the database's token
/// secret, so every node sharing one database accepts the same cookies, and a label keeps it
/// distinct from the page-token key.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    pub fn derive(token_secret: &[u8]) -> SessionKey {
        SessionKey(hmac_parts(token_secret, &[b"roomlog dashboard session key v1"]))
    }

    /// A MAC over a purpose label and parts, each length-prefixed so no two inputs collide.
    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut all: Vec<&[u8]> = vec![purpose.as_bytes()];
        all.extend_from_slice(parts);
        hmac_parts(&self.0, &all)
    }

    /// Identifies the credential a session was opened with (an auth token, or an API key's
    /// stored hash) without revealing it: a rotated token or a removed key ends its sessions.
    pub fn fingerprint(&self, credential: &str) -> String {
        hex::encode(&self.mac("credential", &[credential.as_bytes()])[..16])
    }

    /// The token a form must echo; `purpose` separates the sign-in form from signed-in forms.
    pub fn csrf_token(&self, purpose: &str, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", &[purpose.as_bytes(), nonce.as_bytes()]))
    }

    pub fn csrf_matches(&self, purpose: &str, nonce: &str, presented: &str) -> bool {
        constant_time_eq(&self.csrf_token(purpose, nonce), presented)
    }
}

fn hmac_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A random nonce: 16 bytes as hex.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What a session cookie carries. Nothing in it is secret; the MAC makes it unforgeable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSession {
    /// The SID signed in with: the account's, or an API key's (`SK…`).
    pub username: String,
    pub account: AccountSid,
    /// Unix seconds.
    pub expires: i64,
    /// Binds the session's CSRF token to this session alone.
    pub nonce: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session cookie is malformed")]
    Malformed,
    #[error("the session cookie's signature is wrong")]
    Forged,
    #[error("the session has expired")]
    Expired,
}

const VERSION: &str = "v1";

impl CookieSession {
    pub fn open(username: &str, account: AccountSid, fingerprint: String, now_secs: i64) -> CookieSession {
        CookieSession {
            username: username.to_owned(),
            account,
            expires: now_secs + SESSION_TTL_SECS,
            nonce: nonce(),
            fingerprint,
        }
    }

    fn payload(&self) -> String {
        format!("{}|{}|{}|{}|{}", self.username, self.account, self.expires, self.nonce, self.fingerprint)
    }

    /// `v1.<payload>.<mac>`, both base64url: safe in a cookie value without quoting.
    pub fn encode(&self, key: &SessionKey) -> String {
        let payload = self.payload();
        let mac = key.mac("session", &[VERSION.as_bytes(), payload.as_bytes()]);
        format!("{VERSION}.{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(mac))
    }

    pub fn decode(key: &SessionKey, value: &str, now_secs: i64) -> Result<CookieSession, SessionError> {
        let mut pieces = value.split('.');
        let (Some(VERSION), Some(payload), Some(mac), None) =
            (pieces.next(), pieces.next(), pieces.next(), pieces.next())
        else {
            return Err(SessionError::Malformed);
        };
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| SessionError::Malformed)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| SessionError::Malformed)?;
        let expected = key.mac("session", &[VERSION.as_bytes(), &payload]);
        if !bool::from(expected[..].ct_eq(&mac[..])) {
            return Err(SessionError::Forged);
        }
        let payload = String::from_utf8(payload).map_err(|_| SessionError::Malformed)?;
        let fields: Vec<&str> = payload.split('|').collect();
        let [username, account, expires, nonce, fingerprint] = fields[..] else {
            return Err(SessionError::Malformed);
        };
        let session = CookieSession {
            username: username.to_owned(),
            account: account.parse().map_err(|_| SessionError::Malformed)?,
            expires: expires.parse().map_err(|_| SessionError::Malformed)?,
            nonce: nonce.to_owned(),
            fingerprint: fingerprint.to_owned(),
        };
        if session.expires <= now_secs {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site's page
/// sends it), `Secure` when the dashboard is served over HTTPS. `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&text).expect("cookie names and values are ASCII without controls")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::derive(b"database token secret")
    }

    fn session() -> CookieSession {
        CookieSession::open("SK0123456789abcdef0123456789abcdef", AccountSid::generate(), "f".repeat(32), 1_000)
    }

    #[test]
    fn a_session_decodes_to_what_was_encoded_until_it_expires() {
        let session = session();
        let cookie = session.encode(&key());
        assert_eq!(CookieSession::decode(&key(), &cookie, 1_000), Ok(session.clone()));
        assert_eq!(CookieSession::decode(&key(), &cookie, session.expires - 1), Ok(session.clone()));
        assert_eq!(CookieSession::decode(&key(), &cookie, session.expires), Err(SessionError::Expired));
    }

    #[test]
    fn a_cookie_signed_with_another_key_or_edited_is_refused() {
        let cookie = session().encode(&key());
        let other = SessionKey::derive(b"another database");
        assert_eq!(CookieSession::decode(&other, &cookie, 1_000), Err(SessionError::Forged));
        let (head, mac) = cookie.rsplit_once('.').unwrap();
        let mut payload = URL_SAFE_NO_PAD.decode(head.trim_start_matches("v1.")).unwrap();
        payload[0] ^= 1;
        let edited = format!("v1.{}.{mac}", URL_SAFE_NO_PAD.encode(payload));
        assert_eq!(CookieSession::decode(&key(), &edited, 1_000), Err(SessionError::Forged));
        for garbage in ["", "v1", "v1..", "v2.a.b", "v1.!!.??", &format!("{cookie}.x")] {
            assert!(CookieSession::decode(&key(), garbage, 1_000).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_purpose_and_nonce() {
        let token = key().csrf_token("session", "n1");
        assert!(key().csrf_matches("session", "n1", &token));
        assert!(!key().csrf_matches("sign-in", "n1", &token));
        assert!(!key().csrf_matches("session", "n2", &token));
        assert!(!key().csrf_matches("session", "n1", ""));
    }

    #[test]
    fn cookies_are_found_among_several_headers_and_pairs() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; roomlog_session=abc.def"));
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc.def"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "roomlog"), None);
    }

    #[test]
    fn set_cookie_carries_the_protective_attributes() {
        let value = set_cookie(SESSION_COOKIE, "x", 60, true);
        let text = value.to_str().unwrap();
        for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Max-Age=60", "Path=/"] {
            assert!(text.contains(attribute), "{attribute} in {text}");
        }
        assert!(!set_cookie(SESSION_COOKIE, "x", 0, false).to_str().unwrap().contains("Secure"));
    }
}
