//! Connections of the hot paths (appends, revisits, imports, the list and fetch queries) through
//! rusqlite: statements are prepared once per connection and run synchronously, where sqlx's
//! SQLite driver sends every statement to a worker thread and back. The settings match the
//! sqlx pools' (`SqliteStore::open`), so both kinds of connection see one database the same way.

use std::path::Path;
use std::time::Duration;

use roomlog_core::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// Enough for every list query shape (filters × direction) a connection meets, so that a
/// busy server never re-prepares.
const STATEMENT_CACHE: usize = 128;

/// Opens a connection to an existing database file (the sqlx pools create it).
///
/// The writer commits with `synchronous = NORMAL`: a commit writes its WAL frames without
/// waiting for the disk, and the writer thread goes on with the next transaction while another
/// thread syncs the WAL and only then acknowledges (see `writer`), which is what FULL would have
/// made the commit wait for. Checkpoints still sync the WAL before copying it into the database.
pub fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let connection = Connection::open_with_flags(path, flags).map_err(driver_error)?;
    connection.busy_timeout(Duration::from_secs(10)).map_err(driver_error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // The writer keeps 16 MB of pages; readers lean on the OS page cache (peak RSS).
    let (synchronous, cache_kib) = if read_only { ("FULL", 2_000) } else { ("NORMAL", 16_000) };
    connection
        .execute_batch(&format!(
            "PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{cache_kib};
             PRAGMA wal_autocheckpoint = 10000;"
        ))
        .map_err(driver_error)?;
    Ok(connection)
}

/// Maps rusqlite's errors as `store_error` maps sqlx's: constraint violations are conflicts, a
/// busy, locked or unreachable file is unavailable, everything else is opaque.
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
        let gone = open(Path::new("/nonexistent/dir/roomlog.db"), true).err().unwrap();
        assert!(matches!(gone, StoreError::Unavailable(_)), "{gone:?}");
    }
}
