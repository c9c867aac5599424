//! The three output formats of the client commands and `export`: `json` (the API's objects as
//! served, streamed as one array), `csv` (one row per object, every schema field, streamed) and
//! `table` (aligned, so collected first).

use std::io::{self, Write};

use serde_json::value::RawValue;
use serde_json::Value;

use crate::fields::{cell, Kind};
use crate::table;

/// How a command prints what it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns of the most useful fields (the default on a terminal).
    Table,
    /// The API's objects, exactly as served: one array for a list (the default in a pipe).
    Json,
    /// One row per object, every field.
    Csv,
}

impl Format {
    pub const NAMES: [&'static str; 3] = ["table", "json", "csv"];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Format, String> {
        match text {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(format!("{text:?} is not a format (table, json or csv)")),
        }
    }
}

fn parse(raw: &RawValue) -> io::Result<Value> {
    serde_json::from_str(raw.get()).map_err(io::Error::other)
}

/// Writes a list, item by item.
pub struct ListWriter<W: Write> {
    kind: Kind,
    sink: Sink<W>,
}

enum Sink<W: Write> {
    Json { out: W, first: bool },
    Csv { out: Box<csv::Writer<W>>, columns: Vec<&'static str> },
    Table { out: W, rows: Vec<Vec<String>> },
}

impl<W: Write> ListWriter<W> {
    /// `with_url`: add the `url` column to CSV (objects from the API have one, stored ones not).
    pub fn new(format: Format, kind: Kind, out: W, with_url: bool) -> io::Result<ListWriter<W>> {
        let sink = match format {
            Format::Json => Sink::Json { out, first: true },
            Format::Table => Sink::Table { out, rows: Vec::new() },
            Format::Csv => {
                let mut columns = kind.fields().to_vec();
                if with_url {
                    columns.push("url");
                }
                let mut out = csv::Writer::from_writer(out);
                out.write_record(&columns).map_err(csv_error)?;
                Sink::Csv { out: Box::new(out), columns }
            }
        };
        Ok(ListWriter { kind, sink })
    }

    pub fn item(&mut self, raw: &RawValue) -> io::Result<()> {
        match &mut self.sink {
            Sink::Json { out, first } => {
                out.write_all(if *first { b"[\n" } else { b",\n" })?;
                *first = false;
                out.write_all(raw.get().as_bytes())
            }
            Sink::Csv { out, columns } => {
                let item = parse(raw)?;
                out.write_record(columns.iter().map(|c| cell(&item[*c]))).map_err(csv_error)
            }
            Sink::Table { rows, .. } => {
                rows.push(table::row(self.kind, &parse(raw)?));
                Ok(())
            }
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Json { mut out, first } => {
                out.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
                out.flush()
            }
            Sink::Csv { mut out, .. } => out.flush(),
            Sink::Table { mut out, rows } => {
                out.write_all(table::render(table::headers(self.kind), &rows).as_bytes())?;
                out.flush()
            }
        }
    }
}

/// Writes one object (`rooms get`, `participants get`).
pub fn write_one(format: Format, kind: Kind, raw: &RawValue, mut out: impl Write) -> io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", raw.get())?,
        Format::Table => out.write_all(table::render_fields(kind, &parse(raw)?).as_bytes())?,
        Format::Csv => {
            let mut writer = ListWriter::new(format, kind, &mut out, true)?;
            writer.item(raw)?;
            writer.finish()?;
        }
    }
    out.flush()
}

/// The CSV writer's I/O errors as they were (a closed pipe stays a `BrokenPipe`), anything else
/// as an opaque I/O error.
fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A closed pipe (`roomlog rooms list | head`) ends the output; it is not a failure.
pub fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn json_lists_are_one_array_of_the_objects_as_served() {
        let mut out = Vec::new();
        let mut writer = ListWriter::new(Format::Json, Kind::Room, &mut out, true).unwrap();
        writer.item(&raw(r#"{"room_sid":"RM1","b":1}"#)).unwrap();
        writer.item(&raw(r#"{"room_sid":"RM2"}"#)).unwrap();
        writer.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "[\n{\"room_sid\":\"RM1\",\"b\":1},\n{\"room_sid\":\"RM2\"}\n]\n");
        let mut empty = Vec::new();
        ListWriter::new(Format::Json, Kind::Room, &mut empty, true).unwrap().finish().unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&empty).unwrap(), serde_json::json!([]));
    }

    #[test]
    fn csv_cells_flatten_lists_and_keep_objects_as_json() {
        assert_eq!(cell(&serde_json::json!(["VP8", "opus"])), "VP8 opus");
        assert_eq!(cell(&serde_json::json!(null)), "");
        assert_eq!(cell(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
        assert_eq!(cell(&serde_json::json!(false)), "false");
    }
}
