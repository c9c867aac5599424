//! The write benchmark's baseline (`roomlog-bench-loader naive`, behind the `testing` feature):
//! what a server without group commit would do per event, on the same schema with the same
//! durability. Each event is stored and folded by the same statements and algorithm as
//! `Store::append`, in a transaction of its own committed with `synchronous = FULL`
//! (`connection::Role::Baseline`) on the calling thread, before the next one starts.

use std::path::Path;

use roomlog_core::{AccountEvent, AppendOutcome, FoldSettings, Millis, StoreError};
use rusqlite::{Connection, TransactionBehavior};

use crate::connection::{driver_error, open, Role};
use crate::transaction::{complete, WriterTx};

pub struct OneTransactionPerEvent {
    connection: Connection,
}

impl OneTransactionPerEvent {
    /// On a database `SqliteStore` has created and migrated.
    pub fn open(path: &Path) -> Result<OneTransactionPerEvent, StoreError> {
        Ok(OneTransactionPerEvent { connection: open(path, Role::Baseline)? })
    }

    pub fn append(
        &mut self,
        event: &AccountEvent,
        settings: &FoldSettings,
        now: Millis,
    ) -> Result<AppendOutcome, StoreError> {
        let tx = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(driver_error)?;
        let mut tx = WriterTx(tx);
        let outcome = complete(roomlog_store_sql::append(&mut tx, std::slice::from_ref(event), settings, now))?;
        tx.0.commit().map_err(driver_error)?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use roomlog_core::{AccountEvent, AccountSid, FoldSettings, Millis, RoomEvent, Store};

    #[tokio::test]
    async fn the_baseline_stores_and_folds_like_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let store = crate::SqliteStore::open(&format!("sqlite://{}", path.display()), 1).await.unwrap();
        store.migrate().await.unwrap();
        let account = AccountSid::generate();
        let raw = r#"{"event":"room-created","room_sid":"RM00000000000000000000000000000009","timestamp":"2025-10-27T18:00:00Z","room_type":"go"}"#;
        let event: RoomEvent = serde_json::from_str(raw).unwrap();
        let event = AccountEvent::new(account.clone(), None, event, "json", raw.to_owned());
        let mut baseline = super::OneTransactionPerEvent::open(&path).unwrap();
        let settings = FoldSettings::default();
        assert_eq!(baseline.append(&event, &settings, Millis(0)).unwrap().accepted, 1);
        assert_eq!(baseline.append(&event, &settings, Millis(0)).unwrap().duplicates, 1);
        let summary = store.room(&account, &event.event.room_sid).await.unwrap().expect("the room is stored");
        assert!(summary.0.contains(r#""room_type":"go""#), "{}", summary.0);
    }
}
