//! The writes other than appends, each as transactions on the writer thread: lifecycle
//! revisits, rebuilds, retention and imports, over the algorithms `roomlog-store-sql` shares.

use roomlog_core::{
    AccountSid, Checkpoint, FoldSettings, ImportOutcome, ImportedRoom, Millis, RebuildReport, RoomSid, StoreError,
};
use roomlog_store_sql::statements;

use crate::connection::driver_error;
use crate::transaction::{complete, parse};
use crate::writer::Writer;

/// Rooms refolded per rebuild transaction: appends get the writer between them.
const REBUILD_BATCH: usize = 200;

pub async fn revisit_due(writer: &Writer, settings: &FoldSettings, now: Millis) -> Result<u64, StoreError> {
    let settings = *settings;
    let mut changed = 0;
    loop {
        let done = writer.transact(move |tx| complete(roomlog_store_sql::revisit(tx, &settings, now))).await?;
        changed += done;
        if done < roomlog_store_sql::REVISIT_BATCH as u64 {
            return Ok(changed);
        }
    }
}

pub async fn rebuild(writer: &Writer, settings: &FoldSettings, now: Millis) -> Result<RebuildReport, StoreError> {
    let settings = *settings;
    let rooms: Vec<(AccountSid, RoomSid)> = writer
        .transact(|tx| {
            let mut statement = tx.0.prepare_cached(statements::ROOMS_WITH_EVENTS).map_err(driver_error)?;
            let keys = statement
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(driver_error)?;
            keys.into_iter().map(|(account, room)| Ok((parse(&account)?, parse(&room)?))).collect()
        })
        .await?;
    let mut report = RebuildReport::default();
    for batch in rooms.chunks(REBUILD_BATCH) {
        let batch = batch.to_vec();
        report.rooms += batch.len() as u64;
        report.events += writer
            .transact(move |tx| {
                let mut events = 0;
                for (account, room) in &batch {
                    events += complete(roomlog_store_sql::rebuild_room(tx, account, room, &settings, now))?;
                }
                Ok(events)
            })
            .await?;
    }
    Ok(report)
}

/// Retention (`Store::purge_before`): the shared statements, in one transaction.
pub async fn purge_before(writer: &Writer, cutoff: Millis) -> Result<u64, StoreError> {
    writer
        .transact(move |tx| {
            let mut rooms = 0;
            for sql in statements::PURGE {
                rooms = tx.0.execute(sql, [cutoff.secs()]).map_err(driver_error)?;
            }
            Ok(rooms as u64)
        })
        .await
}

pub async fn import_rooms(
    writer: &Writer,
    account: &AccountSid,
    rooms: &[ImportedRoom],
    checkpoint: Option<&Checkpoint>,
) -> Result<ImportOutcome, StoreError> {
    let (account, rooms, checkpoint) = (account.clone(), rooms.to_vec(), checkpoint.cloned());
    writer
        .transact(move |tx| {
            complete(roomlog_store_sql::import::import_rooms(tx, &account, &rooms, checkpoint.as_ref()))
        })
        .await
}
