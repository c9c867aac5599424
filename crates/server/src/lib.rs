//! The `roomlog` binary's library: configuration, the HTTP server and the commands.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod http;
pub mod import;
pub mod lifecycle;
pub mod telemetry;

use cli::{Cli, Command};

/// Runs one command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let application = app::Application::build(*args).await?;
            println!("roomlog listening on http://{}", application.address());
            println!("dashboard: http://{}/ (sign in with the account SID and auth token)", application.address());
            application.run_until(app::shutdown_signal()).await
        }
        Command::Accounts { command } => commands::accounts(command).await,
        Command::Keys { command } => commands::keys(command).await,
        Command::Migrate(database) => commands::migrate(database).await,
        Command::Rebuild(args) => commands::rebuild(args).await,
        Command::Rooms { command } => client::commands::rooms(command).await,
        Command::Participants { command } => client::commands::participants(command).await,
        Command::Import(args) => import::run(*args).await,
        Command::Demo(args) => demo::run(*args).await,
        Command::Export(args) => export::run(*args).await,
    }
}
