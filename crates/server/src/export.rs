//! `roomlog export`: streams an account's summaries from the local store as NDJSON or CSV,
//! page by page through the list's keyset cursors, so memory stays flat however many rooms.

use std::io::Write;

use clap::{Args, ValueEnum};
use roomlog_core::page::{Page, PageRequest};
use roomlog_core::{AccountSid, RoomFilter, RoomSid, Row, Store};
use serde_json::value::RawValue;

use crate::app::open_store;
use crate::client::args::{FilterArgs, Format};
use crate::client::output::{ignore_broken_pipe, Kind, ListWriter};
use crate::config::DatabaseArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One summary per line, as the API serves it (without `url`).
    Ndjson,
    /// One row per summary, every field.
    Csv,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "ndjson")]
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

/// Rows per store query.
const PAGE: u32 = 500;

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database).await?;
    let account = match args.account {
        Some(sid) => sid,
        None => match store.accounts().await?.as_slice() {
            [only] => only.sid.clone(),
            [] => anyhow::bail!("this database has no account"),
            many => anyhow::bail!("this database has {} accounts: choose one with --account AC…", many.len()),
        },
    };
    let out = std::io::BufWriter::new(std::io::stdout());
    let exported = export(store.as_ref(), &account, &args.filters.filter(), args.format, args.participants, out).await;
    match exported {
        Err(error)
            if error.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Where the rows go: NDJSON lines, or a CSV of one kind.
enum Sink<W: Write> {
    Lines(W),
    Csv(ListWriter<W>),
}

impl<W: Write> Sink<W> {
    fn write(&mut self, row: Row) -> std::io::Result<()> {
        match self {
            Sink::Lines(out) => {
                out.write_all(row.json.0.as_bytes())?;
                out.write_all(b"\n")
            }
            Sink::Csv(writer) => writer.item(&RawValue::from_string(row.json.0).map_err(std::io::Error::other)?),
        }
    }
}

pub async fn export<W: Write>(
    store: &dyn Store,
    account: &AccountSid,
    filter: &RoomFilter,
    format: ExportFormat,
    participants: bool,
    out: W,
) -> anyhow::Result<()> {
    let (with_rooms, mut sink) = match format {
        ExportFormat::Ndjson => (true, Sink::Lines(out)),
        ExportFormat::Csv => {
            let kind = if participants { Kind::Participant } else { Kind::Room };
            (!participants, Sink::Csv(ListWriter::new(Format::Csv, kind, out, false)?))
        }
    };
    let mut request = PageRequest { size: PAGE, page: 0, cursor: None, offset: 0, cutoff: None };
    loop {
        let rows = store.list_rooms(account, filter, &request).await?;
        let page = Page::assemble(rows, &request);
        for row in page.rows {
            let room: Option<RoomSid> = participants.then(|| row.sid.parse()).transpose()?;
            if with_rooms {
                sink.write(row)?;
            }
            if let Some(room) = room {
                export_participants(store, account, &room, &mut sink).await?;
            }
        }
        match page.next {
            Some(next) => request = PageRequest { cursor: Some(next), page: request.page + 1, ..request },
            None => break,
        }
    }
    match sink {
        Sink::Lines(mut out) => ignore_broken_pipe(out.flush())?,
        Sink::Csv(writer) => ignore_broken_pipe(writer.finish())?,
    }
    Ok(())
}

async fn export_participants<W: Write>(
    store: &dyn Store,
    account: &AccountSid,
    room: &RoomSid,
    sink: &mut Sink<W>,
) -> anyhow::Result<()> {
    let mut request = PageRequest { size: PAGE, page: 0, cursor: None, offset: 0, cutoff: None };
    loop {
        let rows = store.list_participants(account, room, &request).await?;
        let page = Page::assemble(rows, &request);
        for row in page.rows {
            sink.write(row)?;
        }
        match page.next {
            Some(next) => request = PageRequest { cursor: Some(next), page: request.page + 1, ..request },
            None => return Ok(()),
        }
    }
}
