//! The commands that manage a database directly (no server needed).

use roomlog_core::account::{Account, ApiKey};
use roomlog_core::{FoldSettings, Millis};

use crate::app::open_store;
use crate::cli::{AccountsCommand, KeysCommand, RebuildArgs};
use crate::config::DatabaseArgs;

pub async fn accounts(command: AccountsCommand) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Create { friendly_name, database } => {
            let store = open_store(&database).await?;
            let account = Account::generate(&friendly_name);
            store.insert_account(&account).await?;
            println!("sid: {}", account.sid);
            println!("auth_token: {}", account.auth_token);
        }
        AccountsCommand::Update { sid, verify_callbacks, database } => {
            let sid = sid.parse().map_err(anyhow::Error::msg)?;
            let store = open_store(&database).await?;
            store.set_verify_callbacks(&sid, verify_callbacks).await?;
            let state = if verify_callbacks { "verified" } else { "NOT verified (local testing only)" };
            println!("callbacks of {sid} are now {state}");
        }
        AccountsCommand::List { database } => {
            let store = open_store(&database).await?;
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
            let store = open_store(&database).await?;
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
    open_store(&database).await?;
    println!("migrations applied to {}", database.database_url);
    Ok(())
}

pub async fn rebuild(args: RebuildArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database).await?;
    let settings =
        FoldSettings { settle_window_ms: args.settle_window.millis(), room_timeout_ms: args.room_timeout.millis() };
    let report = store.rebuild(&settings, Millis::now()).await?;
    println!("rebuilt {} rooms from {} events", report.rooms, report.events);
    Ok(())
}
