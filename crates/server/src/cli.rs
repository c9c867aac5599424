//! The command line of DESIGN.md: one binary, one subcommand per job.

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, ServeArgs};

#[derive(Parser, Debug)]
#[command(name = "roomlog", version, about = "A self-hosted, Twilio-compatible Video Insights API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (API, events, health); creates and migrates the database.
    Serve(Box<ServeArgs>),
    /// Manage accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Recompute every summary from the stored events.
    Rebuild(RebuildArgs),
    /// Read rooms from an Insights API (this server by default, or Twilio's).
    Rooms {
        #[command(subcommand)]
        command: crate::client::commands::RoomsCommand,
    },
    /// Read a room's participants from an Insights API.
    Participants {
        #[command(subcommand)]
        command: crate::client::commands::ParticipantsCommand,
    },
    /// Copy rooms and participants from an Insights API (Twilio's, or another roomlog) into
    /// this database; resumable.
    Import(Box<crate::import::ImportArgs>),
    /// Generate realistic rooms through the event path, to try roomlog out.
    Demo(Box<crate::demo::DemoArgs>),
    /// Stream this database's summaries as NDJSON or CSV.
    Export(Box<crate::export::ExportArgs>),
}

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
    #[arg(long, env = "ROOMLOG_SETTLE_WINDOW", default_value = "5m")]
    pub settle_window: crate::config::Span,
    #[arg(long, env = "ROOMLOG_ROOM_TIMEOUT", default_value = "24h")]
    pub room_timeout: crate::config::Span,
}
