//! The commands that manage a database directly (no server needed).

use clap::Subcommand;
use roomlog_core::account::{Account, ApiKey, LiveKitKey};
use roomlog_core::Millis;

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
        verify_callbacks: bool,
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
        AccountsCommand::Update { sid, verify_callbacks, database } => {
            let sid = sid.parse().map_err(anyhow::Error::msg)?;
            let store = open_store(&database.config()).await?;
            store.set_verify_callbacks(&sid, verify_callbacks).await?;
            let state = if verify_callbacks { "verified" } else { "NOT verified (local testing only)" };
            println!("callbacks of {sid} are now {state}");
        }
        AccountsCommand::List { database } => {
            let store = open_store(&database.config()).await?;
            println!("{:<34}  {:<9}  FRIENDLY NAME", "SID", "CALLBACKS");
            for account in store.accounts().await? {
                let verify = if account.verify_callbacks { "verified" } else { "UNSIGNED" };
                println!("{:<34}  {:<9}  {}", account.sid, verify, account.friendly_name);
            }
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
