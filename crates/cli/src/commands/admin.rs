//! The commands that manage a database directly (no server needed).

use clap::Subcommand;
use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::outbox::WebhookEndpoint;
use roomlog_core::{AccountSid, Millis};

use roomlog_server::database::open_store;

use crate::settings::{DatabaseArgs, FoldArgs};

#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Create an account and print its SID and auth token (shown once).
    Create {
        #[arg(long, default_value = "roomlog account")]
        friendly_name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Change an account's settings.
    Update {
        /// The account to change.
        sid: String,
        /// Require a valid X-Twilio-Signature on this account's callbacks (the default).
        /// `false` is for local testing only.
        #[arg(long, action = clap::ArgAction::Set)]
        verify_callbacks: Option<bool>,
        /// Pass every accepted callback on to this URL, re-signed for it (repeat for several;
        /// the list replaces the account's; `--forward-to ''` clears it).
        #[arg(long, value_name = "URL")]
        forward_to: Vec<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List accounts (without secrets).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create an API key for an account and print its SID and secret (shown once).
    Create {
        #[arg(long)]
        account: String,
        #[arg(long, default_value = "roomlog key")]
        friendly_name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum LiveKitCommand {
    /// Accept webhooks signed with this LiveKit API key for an account (docs/behaviour.md §4.4).
    Add {
        #[arg(long)]
        account: String,
        /// The key as in livekit.yaml's `keys` and `webhook.api_key`.
        #[arg(long)]
        api_key: String,
        /// Its secret; kept (it verifies each webhook) and never printed.
        #[arg(long, env = "ROOMLOG_LIVEKIT_API_SECRET", hide_env_values = true)]
        api_secret: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the LiveKit keys and the account each belongs to (without secrets).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Stop accepting webhooks signed with this key (within seconds, on every node).
    Remove {
        api_key: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(clap::Args, Debug)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub fold: FoldArgs,
}

pub async fn accounts(command: AccountsCommand) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Create { friendly_name, database } => {
            let store = open_store(&database.config()).await?;
            let account = Account::generate(&friendly_name);
            store.insert_account(&account).await?;
            println!("sid: {}", account.sid);
            println!("auth_token: {}", account.auth_token);
        }
        AccountsCommand::Update { sid, verify_callbacks, forward_to, database } => {
            let sid: AccountSid = sid.parse().map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                verify_callbacks.is_some() || !forward_to.is_empty(),
                "nothing to change: give --verify-callbacks or --forward-to"
            );
            let forward_given = !forward_to.is_empty();
            let targets: Vec<String> = forward_to.into_iter().filter(|url| !url.is_empty()).collect();
            for url in &targets {
                check_url(url)?;
            }
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.account(&sid).await?.is_some(), "no account {sid} in this database");
            if let Some(verify) = verify_callbacks {
                store.set_verify_callbacks(&sid, verify).await?;
                let state = if verify { "verified" } else { "NOT verified (local testing only)" };
                println!("callbacks of {sid} are now {state}");
            }
            if forward_given {
                store.set_forward_targets(&sid, &targets).await?;
                match targets.as_slice() {
                    [] => println!("callbacks of {sid} are no longer forwarded"),
                    urls => println!("callbacks of {sid} are forwarded to {}", urls.join(", ")),
                }
            }
        }
        AccountsCommand::List { database } => {
            let store = open_store(&database.config()).await?;
            println!("{:<34}  {:<9}  {:<20}  FORWARD TO", "SID", "CALLBACKS", "FRIENDLY NAME");
            for account in store.accounts().await? {
                let verify = if account.verify_callbacks { "verified" } else { "UNSIGNED" };
                let targets = store.forward_targets(&account.sid).await?.join(" ");
                println!("{:<34}  {:<9}  {:<20}  {}", account.sid, verify, account.friendly_name, targets);
            }
        }
    }
    Ok(())
}

fn check_url(url: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "{url:?} is not an http:// or https:// URL"
    );
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// Send this account's room webhooks (room.started, room.completed) to a URL; prints the
    /// endpoint's id and signing secret (shown once).
    Add {
        #[arg(long)]
        account: String,
        #[arg(long)]
        url: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the endpoints (without secrets).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Stop sending to an endpoint; its queued messages fail.
    Remove {
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub async fn webhooks(command: WebhooksCommand) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::Add { account, url, database } => {
            let account: AccountSid = account.parse().map_err(anyhow::Error::msg)?;
            check_url(&url)?;
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.account(&account).await?.is_some(), "no account {account} in this database");
            let endpoint = WebhookEndpoint::generate(account, &url);
            store.insert_webhook_endpoint(&endpoint).await?;
            println!("id: {}", endpoint.id);
            println!("secret: {}", endpoint.secret);
            println!("account_sid: {}", endpoint.account_sid);
            println!("url: {}", endpoint.url);
        }
        WebhooksCommand::List { database } => {
            let store = open_store(&database.config()).await?;
            println!("{:<27}  {:<34}  URL", "ID", "ACCOUNT");
            for endpoint in store.webhook_endpoints(None).await? {
                println!("{:<27}  {:<34}  {}", endpoint.id, endpoint.account_sid, endpoint.url);
            }
        }
        WebhooksCommand::Remove { id, database } => {
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.remove_webhook_endpoint(&id).await?, "no webhook endpoint {id} in this database");
            println!("webhook endpoint {id} removed");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// Messages kept as failed: id, kind, target, room, attempts, last error.
    Failed {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Queue failed messages again, keeping their ids (all of them without an ID).
    Retry {
        id: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub async fn outbox(command: OutboxCommand) -> anyhow::Result<()> {
    match command {
        OutboxCommand::Failed { database } => {
            let store = open_store(&database.config()).await?;
            println!("{:<28}  {:<14}  {:<34}  {:<8}  {:<40}  LAST ERROR", "ID", "KIND", "ROOM", "ATTEMPTS", "TARGET");
            for m in store.failed_messages().await? {
                println!(
                    "{:<28}  {:<14}  {:<34}  {:<8}  {:<40}  {}",
                    m.id, m.kind, m.room_sid, m.attempts, m.target, m.last_error
                );
            }
        }
        OutboxCommand::Retry { id, database } => {
            let store = open_store(&database.config()).await?;
            let queued = store.retry_failed(id.as_deref(), Millis::now()).await?;
            if let Some(id) = &id {
                anyhow::ensure!(queued > 0, "no failed message {id}");
            }
            println!("{queued} messages queued again");
        }
    }
    Ok(())
}

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { account, friendly_name, database } => {
            let account = account.parse().map_err(anyhow::Error::msg)?;
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.account(&account).await?.is_some(), "no account {account} in this database");
            let (key, secret) = ApiKey::generate(account, &friendly_name);
            store.insert_api_key(&key).await?;
            println!("sid: {}", key.sid);
            println!("secret: {secret}");
            println!("account_sid: {}", key.account_sid);
        }
    }
    Ok(())
}

pub async fn livekit(command: LiveKitCommand) -> anyhow::Result<()> {
    match command {
        LiveKitCommand::Add { account, api_key, api_secret, database } => {
            let account = account.parse().map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                !api_key.trim().is_empty() && !api_secret.is_empty(),
                "the key and its secret must not be empty"
            );
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.account(&account).await?.is_some(), "no account {account} in this database");
            let key = LiveKitKey { api_key: api_key.trim().to_owned(), account_sid: account, api_secret };
            store.put_livekit_key(&key, false).await?;
            println!("LiveKit key {} now signs webhooks for {}", key.api_key, key.account_sid);
        }
        LiveKitCommand::List { database } => {
            let store = open_store(&database.config()).await?;
            println!("{:<34}  API KEY", "ACCOUNT");
            for key in store.livekit_keys().await? {
                println!("{:<34}  {}", key.account_sid, key.api_key);
            }
        }
        LiveKitCommand::Remove { api_key, database } => {
            let store = open_store(&database.config()).await?;
            anyhow::ensure!(store.remove_livekit_key(&api_key).await?, "no LiveKit key {api_key} in this database");
            println!("LiveKit key {api_key} removed");
        }
    }
    Ok(())
}

pub async fn migrate(database: DatabaseArgs) -> anyhow::Result<()> {
    open_store(&database.config()).await?;
    println!("migrations applied to {}", database.database_url);
    Ok(())
}

pub async fn rebuild(args: RebuildArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database.config()).await?;
    let report = store.rebuild(&args.fold.settings(), Millis::now()).await?;
    println!("rebuilt {} rooms from {} events", report.rooms, report.events);
    Ok(())
}
