//! The response cache (`--response-cache`, on by default): an answer kept from before a commit
//! is never served after it, whoever committed. On PostgreSQL the cache is off and these hold
//! trivially; on SQLite they hold because the WAL-index marker moves with every commit.

use roomlog_core::{AccountEvent, FoldSettings, Millis, RoomEvent};
use roomlog_server::config::DatabaseConfig;
use serde_json::Value;

use crate::fixtures::{participant, room};
use crate::helpers::spawn_app;
use crate::inspect::sids;

async fn rooms_page(app: &crate::helpers::TestApp, query: &str) -> Value {
    app.get(&format!("/v1/Video/Rooms{query}")).await.ok("listing rooms")
}

#[tokio::test]
async fn answers_read_twice_change_with_every_commit_of_this_server() {
    let app = spawn_app().await;
    let (first, second, alice) = (room("first"), room("second"), participant("alice"));
    app.ingest([first.created("2025-10-27T18:00:00Z")]).await;
    let fetch = format!("/v1/Video/Rooms/{}", first.sid);
    for _ in 0..2 {
        assert_eq!(sids(&rooms_page(&app, "").await["rooms"], "room_sid"), vec![first.sid.clone()]);
        assert_eq!(app.get(&fetch).await.ok("fetch")["unique_participants"], 0);
    }

    app.ingest([second.created("2025-10-27T18:00:01Z"), first.connected(&alice, "2025-10-27T18:00:02Z")]).await;
    assert_eq!(sids(&rooms_page(&app, "").await["rooms"], "room_sid"), [second.sid.clone(), first.sid.clone()]);
    assert_eq!(app.get(&fetch).await.ok("fetch")["unique_participants"], 1);
    let participants = format!("{fetch}/Participants");
    assert_eq!(app.get(&participants).await.ok("participants")["participants"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_commit_by_another_process_on_the_database_ends_every_kept_answer() {
    let app = spawn_app().await;
    let (kept, late) = (room("kept"), room("late"));
    app.ingest([kept.created("2025-10-27T18:00:00Z")]).await;
    for _ in 0..2 {
        assert_eq!(rooms_page(&app, "?PageSize=5").await["rooms"].as_array().map(Vec::len), Some(1));
    }

    // `roomlog import` or `rebuild` in another process: a store of its own on the same file.
    let other = roomlog_server::database::open_store(&DatabaseConfig { url: app.database_url().to_owned(), pool: 1 })
        .await
        .expect("a second store on the database");
    let raw = late.created("2025-10-27T18:00:05Z");
    let event: RoomEvent = serde_json::from_value(raw.clone()).unwrap();
    let account = app.account_sid.parse().unwrap();
    let appended = AccountEvent::new(account, None, event, "json", raw.to_string());
    other.append(&[appended], &FoldSettings::default(), Millis::now()).await.expect("the other process appends");

    let rooms = rooms_page(&app, "?PageSize=5").await;
    assert_eq!(sids(&rooms["rooms"], "room_sid"), [late.sid.clone(), kept.sid.clone()]);
}
