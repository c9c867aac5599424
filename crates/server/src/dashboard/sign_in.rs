//! Signing in to the dashboard with the API's credentials (an account SID and auth token, or an
//! API key and secret), signing out, and the `SignedIn` extractor every page starts with.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roomlog_core::{AccountSid, ApiKeySid, Millis};
use serde::Deserialize;

use super::session::{
    cookie, nonce, set_cookie, CookieSession, SessionKey, SESSION_COOKIE, SESSION_TTL_SECS, SIGN_IN_COOKIE,
    SIGN_IN_TTL_SECS,
};
use super::{page, Nav, PageError};
use crate::http::auth::authenticate;
use crate::http::public_base;
use crate::state::AppState;

const SIGN_IN_PURPOSE: &str = "sign-in";
const SESSION_PURPOSE: &str = "session";

/// The key of this database's cookies (read per request, so every node agrees without setup).
pub async fn session_key(state: &AppState) -> Result<SessionKey, PageError> {
    Ok(SessionKey::derive(&state.store.token_secret().await?))
}

/// The account a credential SID belongs to now, and the fingerprint of its current secret.
async fn credential(
    state: &AppState,
    key: &SessionKey,
    username: &str,
) -> Result<Option<(AccountSid, String)>, PageError> {
    if let Ok(sid) = username.parse::<AccountSid>() {
        return Ok(state.store.account(&sid).await?.map(|a| (a.sid.clone(), key.fingerprint(&a.auth_token))));
    }
    if let Ok(sid) = username.parse::<ApiKeySid>() {
        return Ok(state.store.api_key(&sid).await?.map(|k| (k.account_sid.clone(), key.fingerprint(&k.secret_hash))));
    }
    Ok(None)
}

/// Cookies get `Secure` when the dashboard is reached over HTTPS.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    public_base(state, headers).starts_with("https://")
}

/// Only a path on this server may follow sign-in (no open redirect to another site).
fn local_target(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.starts_with("/sign-");
    if local {
        next
    } else {
        "/"
    }
}

/// A verified session: the account whose rooms the page may show.
pub struct SignedIn {
    pub account: AccountSid,
    pub username: String,
    nonce: String,
    key: SessionKey,
}

impl SignedIn {
    pub fn nav(&self) -> Nav {
        Nav {
            account: self.account.to_string(),
            key: (self.username != self.account.as_str()).then(|| self.username.clone()),
            csrf: self.key.csrf_token(SESSION_PURPOSE, &self.nonce),
        }
    }

    fn csrf_matches(&self, presented: &str) -> bool {
        self.key.csrf_matches(SESSION_PURPOSE, &self.nonce, presented)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    /// A missing, forged or expired cookie, or one whose credential was rotated or removed,
    /// sends the browser to the sign-in form, which brings it back here afterwards.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let key = session_key(state).await.map_err(IntoResponse::into_response)?;
        let presented = cookie(&parts.headers, SESSION_COOKIE);
        if let Some(session) = presented.and_then(|value| CookieSession::decode(&key, value, Millis::now().secs()).ok())
        {
            let current = credential(state, &key, &session.username).await.map_err(IntoResponse::into_response)?;
            if current.is_some_and(|(account, fingerprint)| {
                account == session.account && super::session::constant_time_eq(&fingerprint, &session.fingerprint)
            }) {
                return Ok(SignedIn {
                    account: session.account,
                    username: session.username,
                    nonce: session.nonce,
                    key,
                });
            }
        }
        let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let target = if here == "/" {
            "/sign-in".to_owned()
        } else {
            format!("/sign-in?{}", form_urlencoded::Serializer::new(String::new()).append_pair("next", here).finish())
        };
        let mut response = Redirect::to(&target).into_response();
        if presented.is_some() {
            response.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, secure(state, &parts.headers)));
        }
        Err(response)
    }
}

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage<'a> {
    nav: Option<Nav>,
    csrf: String,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

/// The form, with a fresh nonce cookie its CSRF token is bound to.
fn sign_in_page(
    (state, headers, key): (&AppState, &HeaderMap, &SessionKey),
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let nonce = nonce();
    let template = SignInPage {
        nav: None,
        csrf: key.csrf_token(SIGN_IN_PURPOSE, &nonce),
        next: local_target(next),
        username,
        error,
    };
    let mut response = page(status, &template);
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &nonce, SIGN_IN_TTL_SECS, secure(state, headers)));
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    let key = session_key(&state).await?;
    Ok(sign_in_page((&state, &headers, &key), StatusCode::OK, &query.next, "", None))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    username: String,
    password: String,
    csrf: String,
    next: String,
}

const EXPIRED_FORM: &str = "This form has expired or was not sent from this page. Please sign in again.";
const STALE_ACTION: &str = "This form has expired or was not sent from this page. Reload the page and try again.";
const REFUSED: &str = "Those credentials were not accepted. Use an account SID (AC…) with its auth token, \
                       or an API key SID (SK…) with its secret.";

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let key = session_key(&state).await?;
    let context = (&state, &headers, &key);
    let nonce = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !key.csrf_matches(SIGN_IN_PURPOSE, nonce, &form.csrf) {
        return Ok(sign_in_page(context, StatusCode::FORBIDDEN, &form.next, &form.username, Some(EXPIRED_FORM)));
    }
    let username = form.username.trim();
    let refused = || sign_in_page(context, StatusCode::UNAUTHORIZED, &form.next, username, Some(REFUSED));
    let account = match authenticate(&state, username, &form.password).await {
        Ok(account) => account,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => return Ok(refused()),
        Err(error) => return Err(error.into()),
    };
    let Some((_, fingerprint)) = credential(&state, &key, username).await? else { return Ok(refused()) };
    tracing::info!(%account, "dashboard sign-in");
    let session = CookieSession::open(username, account, fingerprint, Millis::now().secs());
    let secure = secure(&state, &headers);
    let mut response = Redirect::to(local_target(&form.next)).into_response();
    let cookies = response.headers_mut();
    cookies.append(SET_COOKIE, set_cookie(SESSION_COOKIE, &session.encode(&key), SESSION_TTL_SECS, secure));
    cookies.append(SET_COOKIE, set_cookie(SIGN_IN_COOKIE, "", 0, secure));
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !signed_in.csrf_matches(&form.csrf) {
        return Err(PageError { status: StatusCode::FORBIDDEN, message: STALE_ACTION.to_owned() });
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, secure(&state, &headers)));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn only_local_paths_may_follow_sign_in() {
        for (next, expected) in [
            ("/rooms/RM1?x=1", "/rooms/RM1?x=1"),
            ("/?RoomType=go", "/?RoomType=go"),
            ("", "/"),
            ("https://evil.example/", "/"),
            ("//evil.example/", "/"),
            ("/\\evil.example", "/"),
            ("/sign-out", "/"),
        ] {
            assert_eq!(local_target(next), expected, "{next:?}");
        }
    }
}
