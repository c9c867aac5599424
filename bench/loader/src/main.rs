//! `roomlog-bench-loader`: makes the benchmark's data and requests (see bench/README.md).
#![forbid(unsafe_code)]

mod load;
mod mix;
mod requests;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Benchmark data and requests for roomlog")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Loads `--rooms` rooms of the mix into a database (sqlite://… or postgres://…).
    Load(load::LoadArgs),
    /// The naive baseline: one event per transaction, one after the other, for `--seconds`.
    Naive(requests::NaiveArgs),
    /// Writes signed status callbacks, one request per line, for the wrk callbacks script.
    Callbacks(requests::CallbacksArgs),
    /// Writes one `{"events": [...]}` batch whose room SIDs hold a placeholder the wrk script
    /// replaces per request.
    BatchTemplate(requests::BatchArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load(args) => load::run(args).await,
        Command::Naive(args) => requests::naive(args).await,
        Command::Callbacks(args) => requests::callbacks(args),
        Command::BatchTemplate(args) => requests::batch_template(args),
    }
}
