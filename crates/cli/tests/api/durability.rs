//! Durability (docs/behaviour.md §4.3): every acknowledged event survives `kill -9` of the real binary.

use roomlog_core::account::Account;
use serde_json::{json, Value};

use crate::database::Database;
use crate::fixtures::{at, room, standup};
use crate::helpers::Credentials;
use crate::process::Node;

#[tokio::test]
async fn acknowledged_events_survive_a_kill_9() {
    let database = Database::fresh().await;
    let database_url = database.url().to_owned();
    let generated = Account::generate("durability");
    let account = Credentials::new(generated.sid.to_string(), generated.auth_token);
    let s = standup();
    let singles: Vec<_> = (0..20).map(|i| room(&format!("single {i}"))).collect();

    let server = Node::start(&database_url, &account, &[]).await;
    for chunk in s.events.chunks(5) {
        server.api.ingest(chunk.to_vec()).await;
    }
    for (i, single) in singles.iter().enumerate() {
        let reply = server.api.post_events(&single.created(&at(1, i as u32))).await;
        assert_eq!(reply.status.as_u16(), 202, "event {i}: {}", reply.body);
    }
    server.kill_9().await;

    let server = Node::start(&database_url, &account, &[]).await;
    let listed = server.api.get("/v1/Video/Rooms?PageSize=1000").await.ok("listing after the restart");
    let mut found: Vec<&str> =
        listed["rooms"].as_array().expect("rooms").iter().filter_map(|r| r["room_sid"].as_str()).collect();
    let mut expected: Vec<&str> = singles.iter().map(|r| r.sid.as_str()).chain([s.room.sid.as_str()]).collect();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "every acknowledged room is there");
    let summary = server.api.room(&s.room.sid).await;
    let derived: Vec<&Value> =
        ["unique_participants", "concurrent_participants", "total_participant_duration_sec", "end_time"]
            .iter()
            .map(|field| &summary[*field])
            .collect();
    assert_eq!(derived, [&json!(4), &json!(2), &json!(3025), &json!("2025-10-27T18:30:00Z")]);
    let replay = server.api.ingest(s.events.clone()).await;
    assert_eq!(replay, json!({"accepted": 0, "duplicates": s.events.len()}), "the raw events were kept too");
    server.kill_9().await;
}
