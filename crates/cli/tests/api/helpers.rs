//! The harness: `spawn_app()` serves the real router on a random port over a fresh database,
//! and `Api` sends typed, authenticated requests and reads replies.

use std::net::SocketAddr;
use std::ops::Deref;

use clap::Parser;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use roomlog::command_line::{Cli, Command};
use roomlog_core::account::{Account, ApiKey};
use roomlog_server::{AppState, Application};
use serde_json::{json, Value};

use crate::inspect::sids;
use tokio::sync::oneshot;

use crate::database::Database;

/// The server settings a test may choose. Every setting is passed as a flag, so no
/// `ROOMLOG_*` variable of the machine running the tests changes what a test sees.
#[derive(Clone, Debug)]
pub struct Settings {
    pub default_window: &'static str,
    pub settle_window: &'static str,
    pub room_timeout: &'static str,
    pub public_url: Option<&'static str>,
    pub trust_proxy: bool,
    /// Seed this account instead of a fresh one (to compare two servers fed the same events).
    pub account: Option<Credentials>,
}

impl Default for Settings {
    /// Tests use fixed 2025 timestamps: the window is off, ended rooms settle at once and a
    /// silent room never times out.
    fn default() -> Settings {
        Settings {
            default_window: "0",
            settle_window: "0",
            room_timeout: "36500d",
            public_url: None,
            trust_proxy: false,
            account: None,
        }
    }
}

/// `username:secret` for HTTP Basic auth: an account SID and token, or an API key and secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Credentials {
        Credentials { username: username.into(), secret: secret.into() }
    }
}

/// A running server. Dropping it stops the server; the database directory goes with it.
pub struct TestApp {
    pub address: SocketAddr,
    pub state: AppState,
    pub api: Api,
    shutdown: Option<oneshot::Sender<()>>,
    _database: Database,
}

impl Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let database = Database::fresh().await;
    let account = settings.account.clone().unwrap_or_else(|| {
        let generated = Account::generate("test account");
        Credentials::new(generated.sid.to_string(), generated.auth_token)
    });
    let database_url = database.url().to_owned();
    let mut argv = vec!["roomlog", "serve", "--listen", "127.0.0.1:0", "--database-url", &database_url];
    argv.extend(["--default-window", settings.default_window, "--settle-window", settings.settle_window]);
    argv.extend(["--room-timeout", settings.room_timeout, "--retention", "0"]);
    argv.extend(["--account-sid", &account.username, "--auth-token", &account.secret]);
    let Command::Serve(args) = Cli::try_parse_from(argv).expect("test flags parse").command else {
        unreachable!("the command line starts with serve")
    };
    let mut config = args.server_config().expect("test settings are valid");
    // Set directly: an optional URL and a switch cannot be reset by a flag if the environment
    // sets them.
    config.public_url = settings.public_url.map(str::to_owned);
    config.trust_proxy = settings.trust_proxy;
    // Binding happens in build, before the server task starts: no waiting for readiness.
    let application = Application::build(config).await.expect("the application builds");
    let address = application.address();
    let state = application.state();
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let api = Api::new(format!("http://{address}"), account);
    TestApp { address, state, api, shutdown: Some(shutdown), _database: database }
}

impl TestApp {
    /// The database this server runs on, for a second process (or store) to open.
    pub fn database_url(&self) -> &str {
        self._database.url()
    }

    /// A new API key of the test account, with its secret.
    pub async fn create_api_key(&self) -> Credentials {
        let account = self.account_sid.parse().expect("the test account SID parses");
        let (key, secret) = ApiKey::generate(account, "test key");
        self.state.store.insert_api_key(&key).await.expect("the API key is stored");
        Credentials::new(key.sid.to_string(), secret)
    }

    /// A second account in the same database, for isolation tests.
    pub async fn create_account(&self) -> Credentials {
        let account = Account::generate("other account");
        self.state.store.insert_account(&account).await.expect("the account is stored");
        Credentials::new(account.sid.to_string(), account.auth_token)
    }
}

/// An HTTP client for one server and one account.
pub struct Api {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub client: reqwest::Client,
}

/// A reply, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Api {
    pub fn new(base_url: String, account: Credentials) -> Api {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
        Api { base_url, account_sid: account.username, auth_token: account.secret, client }
    }

    /// Another client for the same server and account (for concurrent requests).
    pub fn clone_api(&self) -> Api {
        Api {
            base_url: self.base_url.clone(),
            account_sid: self.account_sid.clone(),
            auth_token: self.auth_token.clone(),
            client: self.client.clone(),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.account_sid, &self.auth_token)
    }

    /// A request to `target`, a path (`/v1/…`) on this server or an absolute URL sent verbatim.
    pub fn request(&self, method: Method, target: &str) -> RequestBuilder {
        let url = if target.starts_with("http") { target.to_owned() } else { format!("{}{target}", self.base_url) };
        self.client.request(method, url)
    }

    /// The same, with this account's credentials.
    pub fn authed(&self, method: Method, target: &str) -> RequestBuilder {
        self.request(method, target).basic_auth(&self.account_sid, Some(&self.auth_token))
    }

    pub async fn send(
        &self,
        method: Method,
        target: &str,
        auth: Option<&Credentials>,
        body: Option<(Vec<u8>, &str)>,
    ) -> Reply {
        let mut request = self.request(method, target);
        if let Some(credentials) = auth {
            request = request.basic_auth(&credentials.username, Some(&credentials.secret));
        }
        if let Some((bytes, content_type)) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type).body(bytes);
        }
        Reply::of(request).await
    }

    pub async fn get(&self, target: &str) -> Reply {
        self.send(Method::GET, target, Some(&self.credentials()), None).await
    }

    pub async fn get_as(&self, credentials: &Credentials, target: &str) -> Reply {
        self.send(Method::GET, target, Some(credentials), None).await
    }

    pub async fn get_unauthenticated(&self, target: &str) -> Reply {
        self.send(Method::GET, target, None, None).await
    }

    pub async fn post_events(&self, body: &Value) -> Reply {
        self.post_events_as(&self.credentials(), body).await
    }

    pub async fn post_events_as(&self, credentials: &Credentials, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        self.send(Method::POST, "/v1/Video/Events", Some(credentials), Some((bytes, "application/json"))).await
    }

    /// Posts the events as one batch and insists they are acknowledged.
    pub async fn ingest(&self, events: impl IntoIterator<Item = Value>) -> Value {
        let reply = self.post_events(&json!({"events": events.into_iter().collect::<Vec<_>>()})).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "events were refused: {}", reply.body);
        reply.json()
    }

    /// Posts a Twilio status callback signed as Twilio signs it for the URL Twilio was given
    /// (`public_url` + the callbacks path), with this account's auth token.
    pub async fn post_callback(
        &self,
        public_url: &str,
        params: &[(String, String)],
        idempotency_token: Option<&str>,
    ) -> Reply {
        let url = format!("{public_url}/v1/Video/Callbacks");
        let signature = roomlog_core::signature::compute(&self.auth_token, &url, params);
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        let mut request = self
            .request(Method::POST, "/v1/Video/Callbacks")
            .header("X-Twilio-Signature", signature)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(token) = idempotency_token {
            request = request.header("I-Twilio-Idempotency-Token", token);
        }
        Reply::of(request).await
    }

    /// One room summary, which must exist.
    pub async fn room(&self, room_sid: &str) -> Value {
        self.get(&format!("/v1/Video/Rooms/{room_sid}")).await.ok("fetching a room")
    }

    /// Every participant of a room in list order (one large page).
    pub async fn participants(&self, room_sid: &str) -> Vec<Value> {
        let page = self
            .get(&format!("/v1/Video/Rooms/{room_sid}/Participants?PageSize=1000"))
            .await
            .ok("listing participants");
        page["participants"].as_array().expect("a participants array").clone()
    }

    /// The room SIDs of the first page of `GET /v1/Video/Rooms?{query}`, in list order.
    pub async fn room_sids(&self, query: &str) -> Vec<String> {
        let page = self.get(&format!("/v1/Video/Rooms?{query}")).await.ok(query);
        sids(&page["rooms"], "room_sid")
    }
}

impl Reply {
    /// Sends the request and reads the whole reply.
    pub async fn of(request: RequestBuilder) -> Reply {
        let response = request.send().await.unwrap_or_else(|e| panic!("the request failed: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a readable body");
        Reply { status, headers, body }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("an ASCII header"))
    }

    /// Insists on exactly 200 (docs/behaviour.md §1: clients treat anything else as failure).
    pub fn ok(&self, case: &str) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{case}: expected 200, got {}: {}", self.status, self.body);
        self.json()
    }

    /// Insists on Twilio's v1 error form (docs/behaviour.md §3) with this status and code, and returns
    /// the message.
    pub fn assert_error(&self, status: u16, code: u64, case: &str) -> String {
        let body = self.assert_error_status(status, case);
        assert_eq!(body["code"], code, "{case}: error code; body {body}");
        body["message"].as_str().expect("a message string").to_owned()
    }

    /// The same, for a status whose code docs/behaviour.md does not fix; returns the body.
    pub fn assert_error_status(&self, status: u16, case: &str) -> Value {
        assert!(self.status.as_u16() < 500, "{case}: a client error must never be a {}: {}", self.status, self.body);
        assert_eq!(self.status.as_u16(), status, "{case}: wrong status; body {}", self.body);
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{case}: content-type {content_type:?}");
        let body = self.json();
        let keys: Vec<&str> = body.as_object().expect("an error object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["code", "message", "more_info", "status"], "{case}: error fields");
        assert_eq!(body["status"], status, "{case}: status field");
        let code = body["code"].as_u64().unwrap_or_else(|| panic!("{case}: a numeric code in {body}"));
        assert_eq!(body["more_info"], format!("https://www.twilio.com/docs/errors/{code}"), "{case}: more_info");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: a message");
        body
    }
}
