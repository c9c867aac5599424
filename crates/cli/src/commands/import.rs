//! `roomlog import`: the flags of the importer (`roomlog_client::import`), which copies rooms
//! and participants from a Twilio-compatible Insights API into the local store, resumably.

use clap::Args;
use roomlog_client::import::{self, ImportOptions};
use roomlog_client::Credentials;
use roomlog_core::AccountSid;
use roomlog_server::database::open_store;

use crate::client_args::DateArg;
use crate::settings::{DatabaseArgs, DurationArg};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The Insights API to copy from: https://insights.twilio.com, or another roomlog's URL.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// Upstream account SID (AC…), or an API key SID (SK…).
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub account_sid: String,
    /// Upstream auth token, or the API key's secret.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: String,
    /// The local account to store the rooms under. Default: the upstream account if it exists
    /// here, else the only local account; on an empty database, the upstream account is
    /// created here with the same auth token.
    #[arg(long, value_name = "AC…")]
    pub into_account: Option<AccountSid>,
    /// Only rooms created at or after this date (or this long ago: `30d`). Default: all.
    #[arg(long, value_name = "DATE")]
    pub created_after: Option<DateArg>,
    /// Only rooms created before this date (or this long ago). Default: now.
    #[arg(long, value_name = "DATE")]
    pub created_before: Option<DateArg>,
    /// Rooms whose participants are fetched at the same time.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Rooms per list request (the API's maximum is 1000), and so per checkpoint.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
    /// Tries per request before the import stops (run it again to resume).
    #[arg(long, default_value_t = 10)]
    pub attempts: u32,
    /// The first pause after a 5xx answer or a lost connection; it doubles each time, up to 30 s.
    #[arg(long, default_value = "500ms")]
    pub backoff: DurationArg,
    /// Ignore the saved checkpoint and walk the whole range again.
    #[arg(long)]
    pub restart: bool,
    /// How long after its creation a room may first appear upstream (Twilio lists a room
    /// once it has ended); the checkpoint stays this far behind, so a later run finds it.
    #[arg(long, default_value = "25h")]
    pub late_arrivals: DurationArg,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database.config()).await?;
    let options = ImportOptions {
        from: args.from,
        credentials: Credentials { username: args.account_sid, secret: args.auth_token },
        into_account: args.into_account,
        created_after: args.created_after.map(|d| d.0),
        created_before: args.created_before.map(|d| d.0),
        concurrency: args.concurrency,
        page_size: args.page_size,
        attempts: args.attempts,
        backoff: args.backoff.0,
        restart: args.restart,
        late_arrivals: args.late_arrivals.0,
    };
    import::run(store, options).await
}
