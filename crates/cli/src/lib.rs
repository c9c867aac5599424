//! The `roomlog` binary: the command line, its settings, and one module per command. The server
//! (`roomlog_server`) and the client side (`roomlog_client`) are libraries this crate wires up.
#![forbid(unsafe_code)]

pub mod client_args;
pub mod command_line;
pub mod commands;
pub mod settings;

use command_line::{Cli, Command};
use commands::{admin, demo, export, import, read};

/// Runs one command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let outcome = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Accounts { command } => admin::accounts(command).await,
        Command::Keys { command } => admin::keys(command).await,
        Command::LiveKit { command } => admin::livekit(command).await,
        Command::Webhooks { command } => admin::webhooks(command).await,
        Command::Outbox { command } => admin::outbox(command).await,
        Command::Migrate(database) => admin::migrate(database).await,
        Command::Rebuild(args) => admin::rebuild(args).await,
        Command::Rooms { command } => read::rooms(command).await,
        Command::Participants { command } => read::participants(command).await,
        Command::Usage(args) => read::usage(*args).await,
        Command::Import(args) => import::run(*args).await,
        Command::Demo(args) => demo::run(*args).await,
        Command::Export(args) => export::run(*args).await,
    };
    match outcome {
        // `roomlog export | head`: the reader has all it wanted; that is not a failure.
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// `roomlog serve`, in the foreground until SIGINT or SIGTERM.
async fn serve(args: settings::ServeArgs) -> anyhow::Result<()> {
    let config = args.server_config().map_err(anyhow::Error::msg)?;
    let schedule = args.import.schedule().map_err(anyhow::Error::msg)?;
    let application = roomlog_server::Application::build(config).await?;
    let (stop_import, stopped) = tokio::sync::watch::channel(false);
    let public_base = args.public_url.clone().unwrap_or_else(|| format!("http://{}", application.address()));
    let mut delivery = roomlog_client::delivery::DeliveryConfig::new(&public_base);
    delivery.lease = args.outbox_lease.0;
    delivery.wake = application.state().outbox_wake.clone();
    tokio::spawn(roomlog_client::delivery::run(application.state().store.clone(), delivery, stopped.clone()));
    if let Some(schedule) = schedule {
        println!("importing from {} every {:?}", schedule.options.from, schedule.every);
        let store = application.state().store.clone();
        tokio::spawn(roomlog_client::import::schedule::keep_current(store, schedule, stopped));
    }
    println!("roomlog listening on http://{}", application.address());
    println!("dashboard: http://{}/ (sign in with the account SID and auth token)", application.address());
    println!("running in the foreground: Ctrl-C or SIGTERM stops it");
    application
        .run_until(async move {
            roomlog_server::app::shutdown_signal().await;
            let _ = stop_import.send(true);
        })
        .await
}

/// Whether an error comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
