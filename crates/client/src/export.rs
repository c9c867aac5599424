//! `roomlog export`: streams an account's summaries from the local store as NDJSON or CSV,
//! page by page through the list's keyset cursors, so memory stays flat however many rooms.

use std::io::Write;

use roomlog_core::page::{Page, PageRequest};
use roomlog_core::{AccountSid, RoomFilter, RoomSid, Row, Store};
use serde_json::value::RawValue;

use crate::fields::Kind;
use crate::output::{ignore_broken_pipe, Format, ListWriter};

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One summary per line, as the API serves it (without `url`).
    Ndjson,
    /// One row per summary, every field.
    Csv,
}

impl ExportFormat {
    pub const NAMES: [&'static str; 2] = ["ndjson", "csv"];
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<ExportFormat, String> {
        match text {
            "ndjson" => Ok(ExportFormat::Ndjson),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(format!("{text:?} is not an export format (ndjson or csv)")),
        }
    }
}

/// Rows per store query.
const PAGE: u32 = 500;

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
