//! The write cases' inputs: signed status callbacks (docs/behaviour.md §4.1) and a JSON batch template
//! for wrk, and the naive baseline that commits one transaction per event.

use std::io::Write;
use std::time::{Duration, Instant};

use roomlog_core::{signature, AccountSid, Millis};
use serde_json::Value;

use crate::{load, mix};

/// Rooms of the write cases are numbered from here, far from the loaded ones.
const WRITE_ROOMS: u64 = 1_000_000_000;

/// The `n`-th room of the write cases: created after the loaded history.
fn write_room(n: u64) -> Vec<Value> {
    mix::room_events_at(n, mix::END.0 + (n % 10_000_000) as i64 * 1000)
}

/// A JSON event of the mix as the status callback Twilio would send for it.
fn callback_params(event: &Value, sequence: usize) -> Vec<(String, String)> {
    const NAMES: &[(&str, &str)] = &[
        ("event", "StatusCallbackEvent"),
        ("timestamp", "Timestamp"),
        ("room_sid", "RoomSid"),
        ("room_name", "RoomName"),
        ("room_type", "RoomType"),
        ("room_status", "RoomStatus"),
        ("room_duration", "RoomDuration"),
        ("participant_sid", "ParticipantSid"),
        ("participant_identity", "ParticipantIdentity"),
        ("participant_status", "ParticipantStatus"),
        ("participant_duration", "ParticipantDuration"),
        ("track_sid", "TrackSid"),
        ("track_kind", "TrackKind"),
        ("codec", "Codec"),
    ];
    let mut params = vec![
        ("AccountSid".to_owned(), mix::ACCOUNT_SID.to_owned()),
        ("SequenceNumber".to_owned(), sequence.to_string()),
    ];
    for (field, param) in NAMES {
        match &event[*field] {
            Value::String(text) => params.push(((*param).to_owned(), text.clone())),
            Value::Number(number) => params.push(((*param).to_owned(), number.to_string())),
            _ => {}
        }
    }
    params
}

#[derive(clap::Args)]
pub struct CallbacksArgs {
    /// The public URL the server verifies signatures against (its `--public-url` + path).
    #[arg(long)]
    pub url: String,
    /// Requests to write (whole rooms; a little more than asked).
    #[arg(long)]
    pub count: usize,
    /// Which run: each run's callbacks are of rooms no other run uses.
    #[arg(long, default_value_t = 0)]
    pub run: u64,
    #[arg(long)]
    pub out: std::path::PathBuf,
}

/// One line per request: `signature<TAB>form body`.
pub fn callbacks(args: CallbacksArgs) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
    let mut written = 0;
    let mut n = WRITE_ROOMS + args.run * 10_000_000;
    while written < args.count {
        for (i, event) in write_room(n).iter().enumerate() {
            let params = callback_params(event, i);
            let signature = signature::compute(mix::AUTH_TOKEN, &args.url, &params);
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
            writeln!(out, "{signature}\t{body}")?;
            written += 1;
        }
        n += 1;
    }
    out.flush()?;
    Ok(())
}

#[derive(clap::Args)]
pub struct BatchArgs {
    #[arg(long, default_value_t = 1000)]
    pub events: usize,
    #[arg(long)]
    pub out: std::path::PathBuf,
}

/// The placeholder standing for the first 16 hex digits of every room SID in the template.
pub const PLACEHOLDER: &str = "XXXXXXXXXXXXXXXX";

pub fn batch_template(args: BatchArgs) -> anyhow::Result<()> {
    let mut events = Vec::with_capacity(args.events);
    let mut n = WRITE_ROOMS - 10_000_000;
    while events.len() < args.events {
        for mut event in write_room(n) {
            let sid = event["room_sid"].as_str().expect("a room SID").to_owned();
            event["room_sid"] = Value::String(format!("RM{PLACEHOLDER}{}", &sid[18..]));
            events.push(event);
        }
        n += 1;
    }
    events.truncate(args.events);
    std::fs::write(&args.out, serde_json::json!({ "events": events }).to_string())?;
    Ok(())
}

#[derive(clap::Args)]
pub struct NaiveArgs {
    /// A fresh SQLite database (sqlite://…): the same schema and durability as roomlog's.
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

/// One event per transaction, each committed (`synchronous = FULL`) before the next starts, by
/// the same statements and fold as `Store::append` (`roomlog_store_sqlite::baseline`): what a
/// server without group commit does per request, without the HTTP in front.
pub async fn naive(args: NaiveArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.database_url.starts_with("sqlite:"), "the naive baseline is SQLite's (sqlite://PATH)");
    let path = roomlog_store_sqlite::database_path(&args.database_url)?;
    let store = load::open(&args.database_url).await?;
    store.upsert_account(&load::account()).await?;
    let mut baseline = roomlog_store_sqlite::baseline::OneTransactionPerEvent::open(&path)?;
    let account: AccountSid = mix::ACCOUNT_SID.parse()?;
    let settings = load::settings();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut events = 0u64;
    let mut n = WRITE_ROOMS + 500_000_000;
    while Instant::now() < deadline {
        for event in mix::account_events(&account, write_room(n)) {
            baseline.append(&event, &settings, Millis::now())?;
            events += 1;
        }
        n += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{{\"events\": {events}, \"seconds\": {secs:.3}, \"events_per_sec\": {:.1}}}", events as f64 / secs);
    Ok(())
}
