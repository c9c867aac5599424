//! The commands that manage a database directly (no server needed).

use clap::Subcommand;
use roomlog_core::account::{Account, ApiKey};
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
