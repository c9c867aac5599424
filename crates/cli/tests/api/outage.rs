//! A database outage (PostgreSQL): `/readyz` says so, requests fail with Twilio's 503 error
//! (code 20503), nothing acknowledged is lost, and the node recovers by itself.

use std::time::Duration;

use roomlog_store_postgres::testing::{admin_url, TestDatabase};
use serde_json::Value;

use crate::fixtures::{at, room};
use crate::helpers::{Credentials, Reply};
use crate::process::Node;

async fn admin(sql: &str) {
    let pool = sqlx::PgPool::connect(&admin_url()).await.expect("the admin connection");
    sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
}

/// Polls `/readyz` until it answers `status`, within a deadline.
async fn ready_becomes(node: &Node, status: u16, case: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = node.api.get_unauthenticated("/readyz").await;
        if reply.status.as_u16() == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{case}: /readyz still answers {}", reply.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Twilio's error JSON with status 503 and code 20503.
fn assert_unavailable(reply: Reply, case: &str) {
    assert_eq!(reply.status.as_u16(), 503, "{case}: {}", reply.body);
    let body: Value = reply.json();
    assert_eq!((body["status"].as_u64(), body["code"].as_u64()), (Some(503), Some(20503)), "{case}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: a message");
}

#[tokio::test]
async fn a_node_reports_a_database_outage_loses_nothing_and_recovers_by_itself() {
    let database = TestDatabase::create().await;
    let account = Credentials::new(
        roomlog_core::AccountSid::generate().to_string(),
        roomlog_core::account::Account::generate("x").auth_token,
    );
    let node = Node::start(&database.url, &account, &["--database-pool", "2"]).await;
    let before = room("before the outage");
    node.api.ingest([before.created(&at(0, 0))]).await;
    ready_becomes(&node, 200, "before the outage").await;

    let name = &database.name;
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")).await;

    ready_becomes(&node, 503, "during the outage").await;
    assert_unavailable(node.api.get("/v1/Video/Rooms").await, "a read during the outage");
    let during = room("during the outage");
    let refused = node.api.post_events(&during.created(&at(1, 0))).await;
    assert_unavailable(refused, "a write during the outage is not acknowledged");

    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    ready_becomes(&node, 200, "after the outage").await;
    node.api.get(&format!("/v1/Video/Rooms/{}", before.sid)).await.ok("acknowledged before the outage, kept");
    assert_eq!(
        node.api.get(&format!("/v1/Video/Rooms/{}", during.sid)).await.status.as_u16(),
        404,
        "refused, not stored"
    );
    node.api.ingest([during.created(&at(1, 0))]).await;
    node.api.get(&format!("/v1/Video/Rooms/{}", during.sid)).await.ok("the retried event is stored");
}

#[tokio::test]
async fn a_node_started_before_its_database_serves_503_until_the_database_answers() {
    let database = TestDatabase::create().await;
    let name = &database.name;
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    let account = Credentials::new(
        roomlog_core::AccountSid::generate().to_string(),
        roomlog_core::account::Account::generate("x").auth_token,
    );
    // Containers and orchestrators start everything at once: the node must not exit.
    let node = Node::start(&database.url, &account, &["--database-pool", "2"]).await;
    let alive = node.api.get_unauthenticated("/healthz").await;
    assert_eq!(alive.status.as_u16(), 200, "alive while the database is away: {}", alive.body);
    ready_becomes(&node, 503, "before the database answers").await;
    assert_unavailable(node.api.get("/v1/Video/Rooms").await, "a read before the database answers");
    let early = room("before the database");
    assert_unavailable(node.api.post_events(&early.created(&at(0, 0))).await, "a write is not acknowledged");

    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    ready_becomes(&node, 200, "once the database answers").await;
    node.api.ingest([early.created(&at(0, 0))]).await;
    node.api.get(&format!("/v1/Video/Rooms/{}", early.sid)).await.ok("served once migrated, with the seeded account");
}
