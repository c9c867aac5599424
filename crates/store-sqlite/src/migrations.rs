//! The schema migrations: the SQL files of `migrations/`, embedded in the binary and applied in
//! order, each in a transaction of its own, on the writer's connection.
//!
//! Bookkeeping stays in `_sqlx_migrations`, the table (and checksums) of the sqlx migrator that
//! earlier releases ran, rather than moving to `PRAGMA user_version`: a database those releases
//! created needs no adoption step, there is one record of what was applied instead of two that
//! could disagree, and an earlier binary still accepts a database this one migrated, finding
//! every version it knows applied with the checksum it expects.

use std::time::Instant;

use roomlog_core::StoreError;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha384};

use crate::connection::driver_error;

pub struct Migration {
    pub version: i64,
    /// The file name's words, as sqlx recorded them (`0002_add_imports.sql`: "add imports").
    pub description: &'static str,
    pub sql: &'static str,
}

/// Append-only (migrations/README.md): a shipped migration is never edited, since its checksum
/// is recorded in every database it ran on.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, description: "create tables", sql: include_str!("../migrations/0001_create_tables.sql") },
    Migration { version: 2, description: "add imports", sql: include_str!("../migrations/0002_add_imports.sql") },
    Migration {
        version: 3,
        description: "add codec indexes",
        sql: include_str!("../migrations/0003_add_codec_indexes.sql"),
    },
    Migration { version: 4, description: "append events", sql: include_str!("../migrations/0004_append_events.sql") },
    Migration {
        version: 5,
        description: "add livekit keys",
        sql: include_str!("../migrations/0005_add_livekit_keys.sql"),
    },
    Migration { version: 6, description: "add leases", sql: include_str!("../migrations/0006_add_leases.sql") },
    Migration { version: 7, description: "add outbox", sql: include_str!("../migrations/0007_add_outbox.sql") },
    Migration {
        version: 8,
        description: "add participant identity",
        sql: include_str!("../migrations/0008_add_participant_identity.sql"),
    },
    Migration { version: 9, description: "add room usage", sql: include_str!("../migrations/0009_add_room_usage.sql") },
];

/// sqlx's table, column for column.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// What sqlx records as a migration's checksum: SHA-384 of its SQL text.
fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

fn refuse(why: String) -> StoreError {
    StoreError::Other(why.into())
}

/// Applies those of `migrations` the database lacks, after checking that those it has are the
/// ones this binary knows, unchanged; the checks are those the sqlx migrator made.
pub fn run(connection: &mut Connection, migrations: &[Migration]) -> Result<(), StoreError> {
    connection.execute_batch(CREATE_TABLE).map_err(driver_error)?;
    let dirty: Option<i64> = connection
        .query_row("SELECT version FROM _sqlx_migrations WHERE NOT success ORDER BY version LIMIT 1", [], |row| {
            row.get(0)
        })
        .optional()
        .map_err(driver_error)?;
    if let Some(version) = dirty {
        return Err(refuse(format!("migration {version} was left partially applied; restore a backup")));
    }
    let applied: Vec<(i64, Vec<u8>)> = connection
        .prepare("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .and_then(|mut statement| statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
        .map_err(driver_error)?;
    for (version, recorded) in &applied {
        match migrations.iter().find(|m| m.version == *version) {
            None => {
                return Err(refuse(format!(
                    "the database has migration {version}, unknown to this roomlog (a newer one migrated it)"
                )))
            }
            Some(known) if checksum(known.sql) != *recorded => {
                return Err(refuse(format!("migration {version} differs from the one applied to this database")))
            }
            Some(_) => {}
        }
    }
    for migration in migrations.iter().filter(|m| !applied.iter().any(|(version, _)| *version == m.version)) {
        let started = Instant::now();
        // IMMEDIATE: take the write lock at BEGIN; a failure rolls the whole migration back.
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(driver_error)?;
        tx.execute_batch(migration.sql).map_err(driver_error)?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?, ?, TRUE, ?, ?)",
            params![migration.version, migration.description, checksum(migration.sql), nanos],
        )
        .map_err(driver_error)?;
        tx.commit().map_err(driver_error)?;
        tracing::info!(version = migration.version, description = migration.description, "applied a migration");
    }
    // The key page tokens are signed with, created once per database.
    connection
        .execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('token_key', randomblob(32))", [])
        .map_err(driver_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_listed_in_order_as_sqlx_named_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "every file in migrations/ is in MIGRATIONS: {files:?}");
        for (file, migration) in files.iter().zip(MIGRATIONS) {
            let (version, words) = file.trim_end_matches(".sql").split_once('_').unwrap();
            assert_eq!(version.parse::<i64>().unwrap(), migration.version, "{file}");
            assert_eq!(words.replace('_', " "), migration.description, "{file}");
            assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), migration.sql, "{file}");
        }
    }

    #[test]
    fn a_changed_or_unknown_migration_is_refused() {
        let mut db = Connection::open_in_memory().unwrap();
        run(&mut db, MIGRATIONS).unwrap();
        run(&mut db, MIGRATIONS).unwrap();
        assert!(run(&mut db, &MIGRATIONS[..3]).is_err(), "version 4 is unknown to an older list");
        db.execute("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2", []).unwrap();
        assert!(run(&mut db, MIGRATIONS).is_err(), "version 2 changed");
        db.execute("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 2", []).unwrap();
        assert!(run(&mut db, MIGRATIONS).is_err(), "version 2 is dirty");
    }
}
