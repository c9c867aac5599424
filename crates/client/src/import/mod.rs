//! `roomlog import`: copies every room summary and its participants from a Twilio-compatible
//! Insights API (Twilio itself, or another roomlog) into the local store, resumably.
//!
//! Imported rooms keep their SIDs and are stored under a local account; they are archived
//! copies (no events), which `rebuild` and later events leave alone (`roomlog-store-sql::import`).

mod checkpoint;
mod progress;
pub mod schedule;
mod walk;

pub use progress::Totals;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use roomlog_core::account::Account;
use roomlog_core::{AccountSid, Millis, Store};

use crate::insights::{Credentials, InsightsClient, RetryPolicy};

/// What to import, and how hard to try; the command line's `roomlog import` fills it in.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The Insights API to copy from: https://insights.twilio.com, or another roomlog's URL.
    pub from: String,
    /// The upstream account SID (AC…) or API key SID (SK…), and its secret.
    pub credentials: Credentials,
    /// The local account to store the rooms under. `None`: the upstream account if it exists
    /// here, else the only local account; on an empty database, the upstream account is
    /// created here with the same auth token.
    pub into_account: Option<AccountSid>,
    /// Only rooms created at or after this instant (default: all).
    pub created_after: Option<Millis>,
    /// Only rooms created before this instant (default: now).
    pub created_before: Option<Millis>,
    /// Rooms whose participants are fetched at the same time.
    pub concurrency: usize,
    /// Rooms per list request (at most 1000), and so per checkpoint.
    pub page_size: u32,
    /// Tries per request before the import stops (running it again resumes).
    pub attempts: u32,
    /// The first pause after a 5xx answer or a lost connection; it doubles each time, up to 30 s.
    pub backoff: Duration,
    /// Ignore the saved checkpoint and walk the whole range again.
    pub restart: bool,
    /// How long after its creation a room may first appear upstream: Twilio lists a room once
    /// it has ended (rooms last up to 24 h) and 10–30 minutes later. The checkpoint never
    /// passes rooms created this recently, so every run looks at them again.
    pub late_arrivals: Duration,
}

/// Twilio's longest room plus its delay in listing it.
pub const TWILIO_LATE_ARRIVALS: Duration = Duration::from_secs(25 * 3600);

/// What one import run did. `outcome` is how the walk ended; the counts hold either way (what
/// was fetched before a failure is written and checkpointed).
pub struct ImportRun {
    pub account: AccountSid,
    /// Where the walk began and ends; `start >= end` when there was nothing to do.
    pub start: Millis,
    pub end: Millis,
    pub resumed: bool,
    pub totals: progress::Totals,
    pub retries: u64,
    pub elapsed: Duration,
    pub rate: f64,
    /// Rooms created before this instant are imported and final.
    pub complete_until: Option<Millis>,
    pub outcome: anyhow::Result<()>,
}

impl ImportRun {
    pub fn nothing_to_do(&self) -> bool {
        self.start >= self.end
    }

    /// The summary line, for the terminal and the operator's log and dashboard.
    pub fn summary(&self) -> String {
        if self.nothing_to_do() {
            return format!(
                "nothing to import: rooms created before {} are already imported",
                self.start.to_api_string()
            );
        }
        let totals = &self.totals;
        let ended = match &self.outcome {
            Ok(()) if totals.errors == 0 => "imported".to_owned(),
            Ok(()) => format!("imported with {} rooms unreadable", totals.errors),
            Err(error) => format!("stopped ({error:#}) after"),
        };
        format!(
            "{ended}: {} rooms, {} participants, {} skipped, {} errors ({} retried requests, {:.1} s, {:.0} rooms/s){}",
            totals.rooms,
            totals.participants,
            totals.skipped,
            totals.errors,
            self.retries,
            self.elapsed.as_secs_f64(),
            self.rate,
            self.complete_until.map_or(String::new(), |until| format!("; complete up to {}", until.to_api_string())),
        )
    }

    /// Whether the run did everything it set out to.
    pub fn succeeded(&self) -> bool {
        self.outcome.is_ok() && self.totals.errors == 0
    }
}

/// One resumable import run: from the saved checkpoint (unless `restart`) to `created_before`.
/// Fails only when it cannot start (no such local account, a bad URL, the store); a walk that
/// stops part-way is reported in `ImportRun::outcome`.
pub async fn import(store: Arc<dyn Store>, args: &ImportOptions, show_progress: bool) -> anyhow::Result<ImportRun> {
    let upstream = args.credentials.username.clone();
    let account = local_account(store.as_ref(), args.into_account.clone(), &args.credentials).await?;
    let retry = RetryPolicy { attempts: args.attempts.max(1), base: args.backoff, max_delay: Duration::from_secs(30) };
    let client = InsightsClient::new(&args.from, args.credentials.clone(), retry)?;

    // Twilio lists only recent rooms unless asked for a range (docs/behaviour.md §2): always ask.
    let from = args.created_after.map_or(Millis(0), Millis::truncated);
    let end = ceil_secs(args.created_before.unwrap_or_else(Millis::now));
    let key = checkpoint::key(client.base(), &upstream, &account);
    let saved = match args.restart {
        true => None,
        false => store.import_checkpoint(&key).await?.and_then(|text| checkpoint::decode(&text)),
    };
    let plan = checkpoint::plan(from, end, saved);
    let mut run = ImportRun {
        account: account.clone(),
        start: plan.start,
        end: plan.end,
        resumed: plan.start > from,
        totals: progress::Totals::default(),
        retries: 0,
        elapsed: Duration::ZERO,
        rate: 0.0,
        complete_until: saved.map(|c| c.until),
        outcome: Ok(()),
    };
    if plan.is_done() {
        return Ok(run);
    }
    if run.resumed && show_progress {
        eprintln!("resuming: rooms created before {} are already imported", plan.start.to_api_string());
    }
    let walk = walk::Walk {
        client: client.clone(),
        store,
        account,
        checkpoint_key: key,
        plan,
        page_size: args.page_size,
        concurrency: args.concurrency,
        late_arrivals: args.late_arrivals,
    };
    let progress = match show_progress {
        true => progress::Progress::new(plan.end),
        false => progress::Progress::silent(plan.end),
    };
    let (finished, walked) = walk::run(walk, progress).await?;
    run.totals = finished.totals;
    run.retries = client.retries();
    run.elapsed = finished.elapsed;
    run.rate = finished.rate;
    run.complete_until = finished.covered.map(|c| c.until).or(run.complete_until);
    run.outcome = walked;
    Ok(run)
}

/// `roomlog import`: one run, its summary line, and an error when it did not finish.
pub async fn run(store: Arc<dyn Store>, args: ImportOptions) -> anyhow::Result<()> {
    let run = import(store, &args, true).await?;
    println!("{}", run.summary());
    let ImportRun { outcome, totals, .. } = run;
    outcome.context("the import stopped; run the same command again to resume")?;
    anyhow::ensure!(
        totals.errors == 0,
        "{} rooms could not be read (see the log); the checkpoint stays before them",
        totals.errors
    );
    Ok(())
}

fn ceil_secs(instant: Millis) -> Millis {
    Millis::from_secs(instant.secs() + i64::from(instant.0.rem_euclid(1000) != 0))
}

/// The local account imported rooms go to (see `ImportOptions::into_account`).
async fn local_account(
    store: &dyn Store,
    chosen: Option<AccountSid>,
    upstream: &Credentials,
) -> anyhow::Result<AccountSid> {
    if let Some(sid) = chosen {
        anyhow::ensure!(store.account(&sid).await?.is_some(), "no account {sid} in this database");
        return Ok(sid);
    }
    let upstream_sid: Option<AccountSid> = upstream.username.parse().ok();
    if let Some(sid) = &upstream_sid {
        if store.account(sid).await?.is_some() {
            return Ok(sid.clone());
        }
    }
    let accounts = store.accounts().await?;
    match (accounts.as_slice(), upstream_sid) {
        ([only], _) => Ok(only.sid.clone()),
        ([], Some(sid)) => {
            let account = Account {
                sid: sid.clone(),
                auth_token: upstream.secret.clone(),
                friendly_name: "imported".into(),
                verify_callbacks: true,
            };
            store.insert_account(&account).await.context("creating the local account")?;
            eprintln!("created the local account {sid}, with the same auth token as upstream");
            Ok(sid)
        }
        ([], None) => anyhow::bail!(
            "this database has no account: create one (roomlog accounts create) and pass --into-account AC…"
        ),
        (many, _) => anyhow::bail!("this database has {} accounts: choose one with --into-account AC…", many.len()),
    }
}
