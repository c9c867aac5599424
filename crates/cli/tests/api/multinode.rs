//! Several nodes on one database (docs/design.md, "Storage"): events of the same rooms split between two
//! `roomlog serve` processes and sent concurrently, shuffled and duplicated, give exactly what
//! one node gives, on either node; page tokens of one node work on the other.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::database::Database;
use crate::fixtures::{at, participant, room_of_type, track_sid};
use crate::helpers::{spawn_app_with, Api, Credentials, Settings};
use crate::process::Node;

const PUBLIC_URL: &str = "http://roomlog.test";

/// Ten rooms, each with re-joining participants, tracks of several codecs and an end.
fn workload() -> Vec<Value> {
    let types = ["group", "go", "peer-to-peer", "group-small"];
    let codecs = ["VP8", "H264", "VP9", "opus"];
    let mut events = Vec::new();
    for r in 0..10u32 {
        let room = room_of_type(&format!("room-{r}"), types[r as usize % 4]);
        events.push(room.created(&at(r, 0)));
        for p in 0..4u32 {
            let who = participant(&format!("user-{}", p % 3));
            events.push(room.connected(&who, &at(r, 1 + p * 5)));
            events.push(room.track_added(&who, &track_sid(), codecs[((r + p) % 4) as usize], &at(r, 2 + p * 5)));
            if p != 3 {
                events.push(room.disconnected(&who, &at(r, 20 + p * 7)));
            }
        }
        if r % 3 != 0 {
            events.push(room.ended(&at(r, 50)));
        }
    }
    events
}

/// A reply with its page tokens blanked: they are signed with a key of each database, so only
/// servers sharing one database issue identical tokens.
fn without_tokens(mut reply: Value) -> Value {
    for key in ["next_page_url", "previous_page_url", "url"] {
        if let Some(url) = reply["meta"][key].as_str() {
            let blank = url.split("&PageToken=").next().unwrap_or(url).to_owned();
            reply["meta"][key] = Value::String(blank);
        }
    }
    reply
}

/// Everything a client can read: every page of the list (PageSize 3) and every room's
/// participants (page tokens blanked).
async fn everything(api: &Api) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/v1/Video/Rooms?PageSize=3", api.base_url));
    while let Some(url) = next {
        let page = api.get(&url.replace(PUBLIC_URL, &api.base_url)).await.ok("a page of rooms");
        for room in page["rooms"].as_array().expect("rooms") {
            let sid = room["room_sid"].as_str().expect("sid");
            seen.push(room.clone());
            seen.push(api.get(&format!("/v1/Video/Rooms/{sid}")).await.ok("a room"));
            let participants = api.get(&format!("/v1/Video/Rooms/{sid}/Participants?PageSize=2")).await;
            seen.push(without_tokens(participants.ok("participants")));
        }
        next = page["meta"]["next_page_url"].as_str().map(str::to_owned);
    }
    seen
}

#[tokio::test]
async fn two_nodes_fed_concurrently_answer_exactly_like_one_node() {
    let account = Credentials::new(
        roomlog_core::AccountSid::generate().to_string(),
        roomlog_core::account::Account::generate("x").auth_token,
    );
    let database = Database::fresh().await;
    let args = ["--public-url", PUBLIC_URL];
    let a = Node::start(database.url(), &account, &args).await;
    let b = Node::start(database.url(), &account, &args).await;
    let single = spawn_app_with(Settings {
        public_url: Some(PUBLIC_URL),
        account: Some(account.clone()),
        ..Settings::default()
    })
    .await;

    let events = workload();
    single.ingest(events.clone()).await;

    // Shuffled, a third of the events twice, in batches of 1 to 4, each batch to either node.
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut sent = events.clone();
    sent.extend(events.choose_multiple(&mut rng, events.len() / 3).cloned());
    sent.shuffle(&mut rng);
    let mut batches = JoinSet::new();
    let mut rest = sent.as_slice();
    let mut i = 0;
    while !rest.is_empty() {
        let size = rng.gen_range(1..=4).min(rest.len());
        let (batch, tail) = rest.split_at(size);
        let node = if i % 2 == 0 { a.api.clone_api() } else { b.api.clone_api() };
        let batch = batch.to_vec();
        batches.spawn(async move { node.ingest(batch).await });
        rest = tail;
        i += 1;
    }
    let mut accepted = 0;
    while let Some(outcome) = batches.join_next().await {
        accepted += outcome.expect("a batch task")["accepted"].as_u64().expect("accepted");
    }
    assert_eq!(accepted as usize, events.len(), "each distinct event accepted exactly once across both nodes");

    let expected = everything(&single).await;
    for (name, node) in [("A", &a), ("B", &b)] {
        let seen = everything(&node.api).await;
        assert_eq!(seen.len(), expected.len(), "node {name} lists as many rooms as a single node");
        for (got, want) in seen.iter().zip(&expected) {
            assert_eq!(got, want, "node {name} answers like a single node");
        }
    }

    let first = a.api.get("/v1/Video/Rooms?PageSize=4&RoomType=group&RoomType=go").await.ok("page 0 on A");
    let next = first["meta"]["next_page_url"].as_str().expect("a next page").to_owned();
    let on_a = a.api.get(&next.replace(PUBLIC_URL, &a.api.base_url)).await.ok("page 1 on A");
    let on_b = b.api.get(&next.replace(PUBLIC_URL, &b.api.base_url)).await.ok("page 1 on B");
    assert_eq!(on_a, on_b, "a page token issued by one node works on the other");
}
