//! `roomlog export`: the flags of the exporter (`roomlog_client::export`), which streams an
//! account's summaries from the local store as NDJSON or CSV.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use roomlog_client::export::{export, ExportFormat};
use roomlog_core::AccountSid;
use roomlog_server::database::open_store;

use crate::client_args::FilterArgs;
use crate::settings::DatabaseArgs;

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, default_value = "ndjson", value_parser = PossibleValuesParser::new(ExportFormat::NAMES)
        .map(|name| name.parse::<ExportFormat>().expect("a listed format name parses")))]
    pub format: ExportFormat,
    /// Participant summaries too: in NDJSON each room's participants follow it; a CSV has one
    /// kind of row, so it then holds the participants (each with its `room_sid`).
    #[arg(long)]
    pub participants: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// The account to export. Default: the only account in the database.
    #[arg(long, value_name = "AC…")]
    pub account: Option<AccountSid>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database.config()).await?;
    let account = match args.account {
        Some(sid) => sid,
        None => match store.accounts().await?.as_slice() {
            [only] => only.sid.clone(),
            [] => anyhow::bail!("this database has no account"),
            many => anyhow::bail!("this database has {} accounts: choose one with --account AC…", many.len()),
        },
    };
    let out = std::io::BufWriter::new(std::io::stdout());
    export(store.as_ref(), &account, &args.filters.filter(), args.format, args.participants, out).await
}
