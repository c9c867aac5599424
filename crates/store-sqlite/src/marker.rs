//! A cheap, cross-process change marker for response caching: the wal-index header that every
//! SQLite connection to this file updates on each commit (https://sqlite.org/walformat.html,
//! "The WAL-Index Header"). Its `iChange` counter, frame count and salts change with every
//! transaction any process commits, so two equal readings mean nothing was committed between
//! them. Read with one `pread` of the `-shm` file, without a round trip to SQLite.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The header is 48 bytes, stored twice; writers update the second copy, then the first.
const HEADER: usize = 48;

#[derive(Debug)]
pub struct ChangeMarker {
    shm: PathBuf,
    /// Opened at the first reading and kept: SQLite removes or recreates a `-shm` file only
    /// when the last connection to the database closes, and the store's writer connection stays
    /// open as long as the store (and this marker) lives. One `pread` per reading, then.
    file: OnceLock<File>,
}

impl ChangeMarker {
    pub fn new(database: &std::path::Path) -> ChangeMarker {
        let mut shm = database.as_os_str().to_owned();
        shm.push("-shm");
        ChangeMarker { shm: PathBuf::from(shm), file: OnceLock::new() }
    }

    /// The header as one number, or `None` when it cannot be read consistently right now (a
    /// commit in flight, no `-shm` file yet): the caller must then not trust any cached read.
    pub fn read(&self) -> Option<u64> {
        let file = match self.file.get() {
            Some(file) => file,
            None => {
                let opened = File::open(&self.shm).ok()?;
                self.file.get_or_init(|| opened)
            }
        };
        let mut both = [0u8; 2 * HEADER];
        file.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(HEADER);
        // isInit (byte 12) is set once the header is valid; the copies differ mid-commit.
        if first != second || first[12] == 0 {
            return None;
        }
        // FNV-1a over the header: any field that changes changes the marker.
        Some(first.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)))
    }
}

#[cfg(test)]
mod tests {
    use roomlog_core::account::Account;
    use roomlog_core::Store;

    use crate::SqliteStore;

    #[tokio::test]
    async fn every_commit_from_any_connection_changes_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let store = SqliteStore::open(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        let before = store.change_marker().expect("a WAL database has a marker");
        assert_eq!(store.change_marker(), Some(before), "reading changes nothing");

        store.insert_account(&Account::generate("one")).await.unwrap();
        let after_ours = store.change_marker().unwrap();
        assert_ne!(after_ours, before, "this process's commit");

        // Another process's commit: a second store on the same file stands in for it.
        let other = SqliteStore::open(&url, 1).await.unwrap();
        other.insert_account(&Account::generate("two")).await.unwrap();
        assert_ne!(store.change_marker().unwrap(), after_ours, "another connection's commit");
    }
}
