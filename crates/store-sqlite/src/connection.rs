//! Every connection to the database file, opened here and only here: the URL's path, and every
//! PRAGMA the store runs with. Statements are prepared once per connection and run
//! synchronously (rusqlite), on the writer thread or on the caller's (`readers`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use roomlog_core::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// Enough for every list query shape (filters × direction) a connection meets, so that a
/// busy server never re-prepares.
const STATEMENT_CACHE: usize = 128;

/// What a connection is for; each gets its own settings (`open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The writer thread's one connection (`writer`), which also runs the migrations.
    Writer,
    /// A read-only connection of `readers`.
    Reader,
    /// The write baseline's connection (`baseline`), which commits with `synchronous = FULL`.
    #[cfg(any(test, feature = "testing"))]
    Baseline,
}

/// The file a `sqlite://PATH` or `sqlite:PATH` URL names (percent-encoded, as in any URL).
/// `?mode=rwc` is accepted, being what the store does anyway; other options are refused rather
/// than silently ignored, since the store sets its own (`open`).
pub fn path_of(url: &str) -> Result<PathBuf, StoreError> {
    let invalid = |why: &str| StoreError::Other(format!("{why}: {url:?} (expected sqlite://PATH)").into());
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("not a SQLite URL"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if !options.is_empty() && options != "mode=rwc" {
        return Err(invalid("SQLite URL options are not supported"));
    }
    let path = percent_encoding::percent_decode_str(path).decode_utf8().map_err(|_| invalid("not UTF-8"))?;
    if path.is_empty() || path == ":memory:" {
        return Err(invalid("the store needs a database file"));
    }
    Ok(PathBuf::from(path.into_owned()))
}

/// Opens a connection for `role`; the writer creates the file if it is missing.
///
/// Durability: the writer commits with `synchronous = NORMAL`, so a commit writes its WAL frames
/// without waiting for the disk, and the acknowledger thread `fdatasync`s the WAL before it
/// acknowledges the writes that commit holds (see `writer`), which is the wait FULL would have
/// put in every commit. Checkpoints sync the WAL before copying it into the database.
/// `journal_mode = WAL` is set by the writer, which creates the file; the mode is persistent,
/// so readers and other processes find it. Readers open the file read-only.
pub fn open(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | match role {
            Role::Reader => OpenFlags::SQLITE_OPEN_READ_ONLY,
            _ => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        };
    let connection = Connection::open_with_flags(path, flags).map_err(driver_error)?;
    // Another process (a second server, `roomlog import`) may hold the write lock for a while.
    connection.busy_timeout(Duration::from_secs(10)).map_err(driver_error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if role == Role::Reader {
        // Readers lean on the OS page cache rather than on a large cache each (peak RSS).
        connection.execute_batch("PRAGMA cache_size = -2000;").map_err(driver_error)?;
        return Ok(connection);
    }
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(driver_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Other(format!("{} cannot be put in WAL mode (it is {mode})", path.display()).into()));
    }
    #[cfg(any(test, feature = "testing"))]
    let synchronous = if role == Role::Baseline { "FULL" } else { "NORMAL" };
    #[cfg(not(any(test, feature = "testing")))]
    let synchronous = "NORMAL";
    connection
        .execute_batch(&format!(
            "PRAGMA synchronous = {synchronous};
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -16000;
             -- Checkpoint every ~40 MB of WAL rather than ~4 MB: pages that many commits touch
             -- (index tails, busy rooms) are copied into the database once, not after each.
             PRAGMA wal_autocheckpoint = 10000;"
        ))
        .map_err(driver_error)?;
    Ok(connection)
}

/// Maps rusqlite's errors once: constraint violations (unique keys, foreign keys) are conflicts,
/// a busy, locked or unreachable file is unavailable, everything else is opaque.
pub fn driver_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly,
        ) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Other(Box::new(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_errors_map_to_the_store_errors_callers_act_on() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');").unwrap();
        let duplicate = db.execute("INSERT INTO t VALUES ('a')", []).unwrap_err();
        assert!(matches!(driver_error(duplicate), StoreError::Conflict(_)));
        let missing = db.execute("SELECT * FROM nowhere", []).unwrap_err();
        assert!(matches!(driver_error(missing), StoreError::Other(_)));
        let gone = open(Path::new("/nonexistent/dir/roomlog.db"), Role::Reader).err().unwrap();
        assert!(matches!(gone, StoreError::Unavailable(_)), "{gone:?}");
    }

    #[test]
    fn urls_name_the_file_as_sqlx_read_them() {
        for (url, path) in [
            ("sqlite://roomlog.db", "roomlog.db"),
            ("sqlite:roomlog.db", "roomlog.db"),
            ("sqlite:///var/lib/roomlog/roomlog.db", "/var/lib/roomlog/roomlog.db"),
            ("sqlite:///tmp/my%20data/r.db?mode=rwc", "/tmp/my data/r.db"),
        ] {
            assert_eq!(path_of(url).unwrap(), Path::new(path), "{url}");
        }
        for url in ["postgres://localhost/x", "sqlite://", "sqlite::memory:", "sqlite://r.db?mode=ro"] {
            assert!(path_of(url).is_err(), "{url}");
        }
    }
}
