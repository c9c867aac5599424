//! The command line of docs/design.md, "Commands": one binary, one subcommand per job.

use clap::{Parser, Subcommand};

use crate::commands::admin::{
    AccountsCommand, KeysCommand, LiveKitCommand, OutboxCommand, RebuildArgs, WebhooksCommand,
};
use crate::commands::{demo::DemoArgs, export::ExportArgs, import::ImportArgs, read};
use crate::settings::{DatabaseArgs, ServeArgs};

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
    /// Manage the LiveKit API keys whose signed webhooks an account accepts.
    #[command(name = "livekit")]
    LiveKit {
        #[command(subcommand)]
        command: LiveKitCommand,
    },
    /// Manage room webhook endpoints (room.started, room.completed).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Messages that could not be delivered.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Recompute every summary from the stored events.
    Rebuild(RebuildArgs),
    /// Read rooms from an Insights API (this server by default, or Twilio's).
    Rooms {
        #[command(subcommand)]
        command: read::RoomsCommand,
    },
    /// Read a room's participants from an Insights API.
    Participants {
        #[command(subcommand)]
        command: read::ParticipantsCommand,
    },
    /// Usage per day or month from this server's `GET /v1/Video/Usage`: rooms, sessions,
    /// distinct identities, participant-minutes, by room type.
    Usage(Box<read::UsageArgs>),
    /// Copy rooms and participants from an Insights API (Twilio's, or another roomlog) into
    /// this database; resumable.
    Import(Box<ImportArgs>),
    /// Generate realistic rooms through the event path, to try roomlog out.
    Demo(Box<DemoArgs>),
    /// Stream this database's summaries as NDJSON or CSV.
    Export(Box<ExportArgs>),
}
