//! The store contract, run against a fresh PostgreSQL database per test.

use crate::testing::TestDatabase;
use crate::PostgresStore;

async fn fresh() -> (PostgresStore, TestDatabase) {
    let database = TestDatabase::create().await;
    let store = PostgresStore::open(&database.url, 4).await.expect("open");
    store.migrate().await.expect("migrate");
    (store, database)
}

roomlog_core::store_contract_tests!(fresh());
