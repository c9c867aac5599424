//! `roomlog`: parses the command line and dispatches; nothing else lives here.
#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    roomlog_server::telemetry::init();
    let cli = roomlog::command_line::Cli::parse();
    match roomlog::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("roomlog: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
