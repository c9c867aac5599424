//! The store contract: behaviour every backend must show, run against each of them
//! (`store_contract_tests!` in a backend's tests), so backend parity is a test.

use serde_json::json;

use crate::account::{Account, ApiKey, LiveKitKey};
use crate::event::{AccountEvent, RoomEvent};
use crate::fold::FoldSettings;
use crate::page::{Cursor, Direction, PageRequest, Row};
use crate::query::RoomFilter;
use crate::sid::{AccountSid, ParticipantSid, RoomSid};
use crate::store::{Checkpoint, ImportOutcome, ImportedRoom, Store, StoreError};
use crate::summary::{ParticipantSummary, RoomSummary};
use crate::time::Millis;
use crate::vocab::{Codec, CodecSet, ParticipantStatus, ProcessingState, RoomStatus, RoomType};

const T0: i64 = 1_761_588_961_000;

fn event(room: &RoomSid, kind: &str, at_ms: i64, extra: serde_json::Value) -> RoomEvent {
    let mut value = json!({"event": kind, "room_sid": room, "timestamp": Millis(T0 + at_ms).to_rfc3339_millis()});
    if let (Some(target), Some(fields)) = (value.as_object_mut(), extra.as_object()) {
        target.extend(fields.clone());
    }
    serde_json::from_value(value).expect("contract events are valid")
}

fn stamp(account: &AccountSid, events: Vec<RoomEvent>) -> Vec<AccountEvent> {
    events.into_iter().map(|e| AccountEvent::new(account.clone(), None, e, "test", "{}".to_owned())).collect()
}

async fn new_account(store: &dyn Store) -> AccountSid {
    let account = Account::generate("contract");
    store.insert_account(&account).await.expect("insert account");
    account.sid
}

/// A room created `at_ms` after T0 with one participant on a VP8 track.
fn room_events(room: &RoomSid, at_ms: i64, room_type: &str, codec: &str) -> Vec<RoomEvent> {
    let pa = ParticipantSid::from_seed(room.as_str().as_bytes());
    vec![
        event(room, "room-created", at_ms, json!({"room_type": room_type, "room_name": format!("room-{at_ms}")})),
        event(room, "participant-connected", at_ms + 1000, json!({"participant_sid": pa, "participant_identity": "p"})),
        event(room, "track-added", at_ms + 2000, json!({"participant_sid": pa, "track_sid": "MT1", "codec": codec})),
    ]
}

fn first_page(size: u32) -> PageRequest {
    PageRequest { size, page: 0, cursor: None, offset: 0, cutoff: None }
}

fn sids(rows: &[Row]) -> Vec<String> {
    rows.iter().map(|r| r.sid.clone()).collect()
}

pub async fn accounts_and_keys_round_trip(store: &dyn Store) {
    let account = Account::generate("first");
    store.insert_account(&account).await.unwrap();
    assert!(matches!(store.insert_account(&account).await, Err(StoreError::Conflict(_))), "a second insert conflicts");
    let rotated = Account { auth_token: "0".repeat(32), ..account.clone() };
    store.upsert_account(&rotated).await.unwrap();
    assert_eq!(store.account(&account.sid).await.unwrap().unwrap().auth_token, "0".repeat(32));
    store.set_verify_callbacks(&account.sid, false).await.unwrap();
    assert!(!store.account(&account.sid).await.unwrap().unwrap().verify_callbacks);
    assert!(store.accounts().await.unwrap().iter().any(|a| a.sid == account.sid));
    let (key, secret) = ApiKey::generate(account.sid.clone(), "k");
    store.insert_api_key(&key).await.unwrap();
    let found = store.api_key(&key.sid).await.unwrap().unwrap();
    assert!(found.secret_matches(&secret));
    assert_eq!(found.account_sid, account.sid);
    assert!(store.account(&AccountSid::generate()).await.unwrap().is_none());
    assert_eq!(store.token_secret().await.unwrap(), store.token_secret().await.unwrap());
}

pub async fn livekit_keys_belong_to_one_account_and_can_be_replaced_or_removed(store: &dyn Store) {
    let first = new_account(store).await;
    let second = new_account(store).await;
    let key = LiveKitKey { api_key: "APIcontract".into(), account_sid: first.clone(), api_secret: "s1".into() };
    store.put_livekit_key(&key, false).await.unwrap();
    let moved = LiveKitKey { account_sid: second.clone(), api_secret: "s2".into(), ..key.clone() };
    assert!(
        matches!(store.put_livekit_key(&moved, false).await, Err(StoreError::Conflict(_))),
        "add never moves a key"
    );
    assert_eq!(store.livekit_key("APIcontract").await.unwrap(), Some(key.clone()));
    store.put_livekit_key(&moved, true).await.unwrap();
    assert_eq!(store.livekit_key("APIcontract").await.unwrap(), Some(moved.clone()));
    assert!(store.livekit_keys().await.unwrap().contains(&moved));
    assert!(store.remove_livekit_key("APIcontract").await.unwrap());
    assert!(!store.remove_livekit_key("APIcontract").await.unwrap());
    assert_eq!(store.livekit_key("APIcontract").await.unwrap(), None);
    let orphan =
        LiveKitKey { api_key: "APIorphan".into(), account_sid: AccountSid::generate(), api_secret: "s".into() };
    assert!(store.put_livekit_key(&orphan, false).await.is_err(), "a key needs an existing account");
}

pub async fn a_rooms_raw_events_are_read_back_in_time_order(store: &dyn Store) {
    let account = new_account(store).await;
    let room = RoomSid::from_seed(b"raw events");
    let events: Vec<AccountEvent> = room_events(&room, 0, "group", "VP8")
        .into_iter()
        .rev()
        .enumerate()
        .map(|(i, e)| AccountEvent::new(account.clone(), None, e, "livekit", format!("{{\"n\":{i}}}")))
        .collect();
    store.append(&events, &FoldSettings::default(), Millis(T0)).await.unwrap();
    let raw = store.room_events(&account, &room, 10).await.unwrap();
    let kinds: Vec<&str> = raw.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["room-created", "participant-connected", "track-added"]);
    assert!(raw.iter().all(|e| e.source == "livekit"));
    assert_eq!(raw[0].raw, "{\"n\":2}", "the record as the source sent it");
    assert_eq!(raw[0].timestamp, Millis(T0));
    assert_eq!(store.room_events(&account, &room, 2).await.unwrap().len(), 2);
    assert!(store.room_events(&AccountSid::generate(), &room, 10).await.unwrap().is_empty(), "isolated by account");
}

pub async fn a_lease_has_one_holder_until_it_expires_or_is_released(store: &dyn Store) {
    let now = Millis(T0);
    assert!(store.acquire_lease("job", "node-a", now, 1000).await.unwrap());
    assert!(!store.acquire_lease("job", "node-b", Millis(T0 + 500), 1000).await.unwrap(), "held by a");
    assert!(store.acquire_lease("job", "node-a", Millis(T0 + 900), 1000).await.unwrap(), "a renews");
    assert!(!store.acquire_lease("job", "node-b", Millis(T0 + 1500), 1000).await.unwrap(), "renewed until 1900");
    assert!(store.acquire_lease("job", "node-b", Millis(T0 + 1900), 1000).await.unwrap(), "expired: b takes it");
    store.release_lease("job", "node-a").await.unwrap();
    assert!(!store.acquire_lease("job", "node-a", Millis(T0 + 2000), 1000).await.unwrap(), "a cannot release b's");
    store.release_lease("job", "node-b").await.unwrap();
    assert!(store.acquire_lease("job", "node-a", Millis(T0 + 2000), 1000).await.unwrap(), "released: free again");
    assert!(store.acquire_lease("other job", "node-b", Millis(T0 + 2000), 1000).await.unwrap(), "leases are by name");

    let account = new_account(store).await;
    let run = |at: i64, ok: bool| crate::store::JobRun {
        name: "job".into(),
        holder: "node-a".into(),
        account_sid: Some(account.clone()),
        started: Millis(T0 + at),
        finished: Millis(T0 + at + 10),
        ok,
        rooms: at,
        message: format!("run at {at}"),
    };
    store.record_job_run(&run(1, true)).await.unwrap();
    store.record_job_run(&run(2, false)).await.unwrap();
    assert_eq!(store.job_runs("job", 10).await.unwrap(), vec![run(2, false), run(1, true)], "newest first");
    assert_eq!(store.job_runs("job", 1).await.unwrap(), vec![run(2, false)]);
    assert!(store.job_runs("other job", 10).await.unwrap().is_empty());
}

fn relayed(account: &AccountSid, event: RoomEvent, form: &str) -> AccountEvent {
    let relay = crate::event::Relay { form: form.to_owned(), idempotency_token: Some("idem-1".into()) };
    AccountEvent::new(account.clone(), None, event, "callback", "{}".to_owned()).with_relay(relay)
}

pub async fn callbacks_queue_one_forward_per_target_in_their_transaction(store: &dyn Store) {
    use crate::outbox::{Attempt, MessageKind};
    let account = new_account(store).await;
    let other = new_account(store).await;
    let targets = vec!["http://app.test/a".to_owned(), "http://app.test/b".to_owned()];
    store.set_forward_targets(&account, &targets).await.unwrap();
    assert_eq!(store.forward_targets(&account).await.unwrap(), targets);
    let room = RoomSid::generate();
    let created = event(&room, "room-created", 0, json!({}));
    let settings = FoldSettings::default();
    let now = Millis(T0);
    store.append(&[relayed(&account, created.clone(), "RoomSid=x&A=1")], &settings, now).await.unwrap();
    store.append(&[relayed(&account, created.clone(), "RoomSid=x&A=1")], &settings, now).await.unwrap();
    store.append(&[relayed(&other, created, "RoomSid=x")], &settings, now).await.unwrap();
    let claimed = store.claim_messages("node-a", now, 60_000, 100, 100, &[]).await.unwrap();
    let forwards: Vec<_> = claimed.iter().filter(|m| m.message.kind == MessageKind::Forward).collect();
    assert_eq!(forwards.len(), 2, "one per target, none for a repeat or for an account without targets");
    assert_eq!(
        forwards.iter().map(|m| m.message.target.as_str()).collect::<Vec<_>>(),
        ["http://app.test/a", "http://app.test/b"]
    );
    assert!(forwards
        .iter()
        .all(|m| m.message.body == "RoomSid=x&A=1" && m.message.idempotency_token.as_deref() == Some("idem-1")));
    assert!(forwards.iter().all(|m| m.message.account_sid == account && m.attempts == 0));
    assert!(forwards[0].seq < forwards[1].seq);
    assert!(store.claim_messages("node-b", now, 60_000, 100, 100, &[]).await.unwrap().is_empty(), "leased to node-a");

    let (first, second) = (forwards[0].clone(), forwards[1].clone());
    let later = Millis(T0 + 1000);
    let retry = Attempt::Retry { at: later, error: "HTTP 503".into() };
    // Two attempts recorded in one call.
    store.finish_messages("node-a", &[(first, Attempt::Delivered), (second.clone(), retry)], now).await.unwrap();
    assert!(
        store.claim_messages("node-b", Millis(T0 + 999), 60_000, 100, 100, &[]).await.unwrap().is_empty(),
        "not due yet"
    );
    let again = store.claim_messages("node-b", later, 60_000, 100, 100, &[]).await.unwrap();
    assert_eq!((again.len(), again[0].attempts, again[0].message.id.as_str()), (1, 1, second.message.id.as_str()));
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 503"));
    store.finish_messages("node-a", &[(again[0].clone(), Attempt::Delivered)], later).await.unwrap();
    assert!(
        store.claim_messages("node-c", later, 60_000, 100, 100, &[]).await.unwrap().is_empty(),
        "only the holder finishes it"
    );
    let failed = Attempt::Failed { error: "HTTP 410".into() };
    store.finish_messages("node-b", &[(again[0].clone(), failed)], later).await.unwrap();
    let failed = store.failed_messages().await.unwrap();
    assert_eq!(
        (failed.len(), failed[0].id.as_str(), failed[0].last_error.as_str()),
        (1, second.message.id.as_str(), "HTTP 410")
    );
    let states = store.target_states(&account).await.unwrap();
    let b = states.iter().find(|s| s.target == "http://app.test/b").unwrap();
    assert_eq!((b.pending, b.failed, b.last_error.as_deref()), (0, 1, Some("HTTP 410")));
    assert_eq!(store.retry_failed(Some("msg_none"), later).await.unwrap(), 0);
    assert_eq!(store.retry_failed(None, later).await.unwrap(), 1);
    assert!(store.failed_messages().await.unwrap().is_empty());
    let requeued = store.claim_messages("node-d", later, 10, 100, 100, &[]).await.unwrap();
    assert_eq!(requeued[0].message.id, second.message.id, "re-queued with its id");
    let expired = store.claim_messages("node-e", Millis(T0 + 1010), 60_000, 100, 100, &[]).await.unwrap();
    assert_eq!(expired.len(), 1, "a lease that expired is free for another node");
}

/// A claim takes at most its per-target share of each target's due messages, so one target's
/// backlog never fills a claim ahead of another target's messages, and none of a target it is
/// told to skip (docs/behaviour.md §6.3).
pub async fn a_claim_takes_a_bounded_share_of_each_target(store: &dyn Store) {
    use crate::outbox::TargetKey;
    let account = new_account(store).await;
    let targets = ["http://app.test/busy".to_owned(), "http://app.test/quiet".to_owned()];
    store.set_forward_targets(&account, &targets[..1]).await.unwrap();
    let settings = FoldSettings::default();
    let callback = |i: u32| {
        let e = event(&RoomSid::generate(), "room-created", i64::from(i), json!({}));
        relayed(&account, e, &format!("RoomSid=r{i}"))
    };
    let busy: Vec<_> = (0..5).map(callback).collect();
    store.append(&busy, &settings, Millis(T0)).await.unwrap();
    store.set_forward_targets(&account, &targets[1..]).await.unwrap();
    store.append(&[callback(9)], &settings, Millis(T0)).await.unwrap();
    let claimed = store.claim_messages("n", Millis(T0), 60_000, 2, 3, &[]).await.unwrap();
    let to = |target: &str| claimed.iter().filter(|m| m.message.target == target).count();
    assert_eq!((to(&targets[0]), to(&targets[1])), (2, 1), "two of the busy target's five, and the quiet one's");
    assert!(claimed.windows(2).all(|w| w[0].seq < w[1].seq), "in queue order");
    let skip = [claimed[0].message.target_key()];
    assert_eq!(skip[0].target, targets[0]);
    assert!(
        store.claim_messages("m", Millis(T0), 60_000, 10, 10, &skip).await.unwrap().is_empty(),
        "a skipped target's messages stay where they are"
    );
    // The same URL is another target for another account.
    let elsewhere = [TargetKey { account_sid: AccountSid::generate(), target: targets[0].clone() }];
    let rest = store.claim_messages("m", Millis(T0), 60_000, 10, 10, &elsewhere).await.unwrap();
    assert_eq!(rest.len(), 3, "the busy target's other three are still due");
}

pub async fn rooms_are_announced_when_first_seen_and_when_final(store: &dyn Store) {
    use crate::outbox::{MessageKind, WebhookEndpoint};
    let account = new_account(store).await;
    let endpoint = WebhookEndpoint::generate(account.clone(), "http://hooks.test/in");
    store.insert_webhook_endpoint(&endpoint).await.unwrap();
    assert_eq!(store.webhook_endpoint(&endpoint.id).await.unwrap(), Some(endpoint.clone()));
    assert_eq!(store.webhook_endpoints(Some(&account)).await.unwrap(), vec![endpoint.clone()]);
    let room = RoomSid::generate();
    let settings = FoldSettings { settle_window_ms: 60_000, room_timeout_ms: 3_600_000 };
    store.append(&stamp(&account, room_events(&room, 0, "group", "VP8")), &settings, Millis(T0)).await.unwrap();
    store
        .append(&stamp(&account, vec![event(&room, "room-ended", 10_000, json!({}))]), &settings, Millis(T0))
        .await
        .unwrap();
    let claim = |at: i64| store.claim_messages("n", Millis(at), 600_000, 100, 100, &[]);
    let first = claim(T0).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.message.kind).collect::<Vec<_>>(),
        [MessageKind::RoomStarted],
        "started, not final yet"
    );
    assert_eq!(first[0].message.endpoint_id.as_deref(), Some(endpoint.id.as_str()));
    assert_eq!(first[0].message.target, "http://hooks.test/in");
    store.revisit_due(&settings, Millis(T0 + 70_000)).await.unwrap();
    let completed = claim(T0 + 70_000).await.unwrap();
    assert_eq!(completed.iter().map(|m| m.message.kind).collect::<Vec<_>>(), [MessageKind::RoomCompleted]);
    let body: serde_json::Value = serde_json::from_str(&completed[0].message.body).unwrap();
    assert_eq!(body["room"]["processing_state"], "complete");
    assert_eq!(body["participants"].as_array().unwrap().len(), 1);
    let late = event(&room, "participant-connected", 5_000, json!({"participant_sid": ParticipantSid::generate()}));
    store.append(&stamp(&account, vec![late]), &settings, Millis(T0 + 80_000)).await.unwrap();
    let again = claim(T0 + 80_000).await.unwrap();
    assert_eq!(
        again.iter().map(|m| m.message.kind).collect::<Vec<_>>(),
        [MessageKind::RoomCompleted],
        "a late event announces again"
    );
    assert_ne!(again[0].message.id, completed[0].message.id, "as a new message");
    assert!(store.remove_webhook_endpoint(&endpoint.id).await.unwrap());
    store
        .append(&stamp(&account, room_events(&RoomSid::generate(), 0, "group", "VP8")), &settings, Millis(T0))
        .await
        .unwrap();
    assert!(claim(T0 + 90_000).await.unwrap().is_empty(), "no endpoint, no message");
}

pub async fn appending_counts_new_events_and_repeats(store: &dyn Store) {
    let account = new_account(store).await;
    let room = RoomSid::generate();
    let events = stamp(&account, room_events(&room, 0, "group", "VP8"));
    let settings = FoldSettings::default();
    let first = store.append(&events, &settings, Millis(T0)).await.unwrap();
    assert_eq!((first.accepted, first.duplicates), (3, 0));
    let again = store.append(&events, &settings, Millis(T0)).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 3));
    let summary: RoomSummary = serde_json::from_str(&store.room(&account, &room).await.unwrap().unwrap().0).unwrap();
    assert_eq!(summary.unique_participants, 1);
    assert_eq!(summary.codecs, vec![Codec::Vp8]);
    let rows = store.list_participants(&account, &room, &first_page(10)).await.unwrap();
    assert_eq!(rows.len(), 1);
    let participant: ParticipantSid = rows[0].sid.parse().unwrap();
    let fetched: ParticipantSummary =
        serde_json::from_str(&store.participant(&account, &room, &participant).await.unwrap().unwrap().0).unwrap();
    assert_eq!(fetched.codecs, vec![Codec::Vp8]);
}

/// An `event_id` identifies an event within its room (`AccountEvent::identity`): repeated in the
/// same room it is a duplicate, even with other fields; in another room it is another event.
pub async fn an_event_id_is_scoped_to_its_room(store: &dyn Store) {
    let account = new_account(store).await;
    let (first, second) = (RoomSid::generate(), RoomSid::generate());
    let with_id = |room: &RoomSid, kind: &str| {
        AccountEvent::new(account.clone(), Some("evt-1".into()), event(room, kind, 0, json!({})), "test", "{}".into())
    };
    let settings = FoldSettings::default();
    let stored = store.append(&[with_id(&first, "room-created")], &settings, Millis(T0)).await.unwrap();
    assert_eq!((stored.accepted, stored.duplicates), (1, 0));
    let repeated = store.append(&[with_id(&first, "room-ended")], &settings, Millis(T0)).await.unwrap();
    assert_eq!((repeated.accepted, repeated.duplicates), (0, 1), "same room, same id: the first one stays");
    let summary: RoomSummary = serde_json::from_str(&store.room(&account, &first).await.unwrap().unwrap().0).unwrap();
    assert_eq!(summary.end_time, None);
    let elsewhere = store.append(&[with_id(&second, "room-created")], &settings, Millis(T0)).await.unwrap();
    assert_eq!((elsewhere.accepted, elsewhere.duplicates), (1, 0), "another room: another event");
    assert!(store.room(&account, &second).await.unwrap().is_some());
}

pub async fn lists_are_ordered_filtered_keyset_paged_and_isolated(store: &dyn Store) {
    let account = new_account(store).await;
    let other = new_account(store).await;
    let settings = FoldSettings::default();
    let mut expected = Vec::new();
    for i in 0..7i64 {
        let room = RoomSid::generate();
        // Two rooms share each second, so the sid breaks ties.
        let (room_type, codec) = if i % 2 == 0 { ("group", "VP8") } else { ("go", "OPUS") };
        store
            .append(&stamp(&account, room_events(&room, (i / 2) * 1000, room_type, codec)), &settings, Millis(T0))
            .await
            .unwrap();
        expected.push(((i / 2) * 1000, room.to_string()));
    }
    store
        .append(&stamp(&other, room_events(&RoomSid::generate(), 0, "group", "VP8")), &settings, Millis(T0))
        .await
        .unwrap();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, sid)| sid).collect();

    let all = store.list_rooms(&account, &RoomFilter::default(), &first_page(100)).await.unwrap();
    assert_eq!(sids(&all), expected, "create_time desc, room_sid desc; other accounts excluded");

    let page1 = store.list_rooms(&account, &RoomFilter::default(), &first_page(3)).await.unwrap();
    assert_eq!(page1.len(), 4, "PageSize + 1 rows are fetched");
    let after = Cursor { direction: Direction::Next, time_secs: page1[2].time_secs, sid: page1[2].sid.clone() };
    let request = PageRequest { size: 3, page: 1, cursor: Some(after), offset: 0, cutoff: None };
    let page2 = store.list_rooms(&account, &RoomFilter::default(), &request).await.unwrap();
    assert_eq!(sids(&page2), expected[3..7].to_vec());
    let before = Cursor { direction: Direction::Previous, time_secs: page2[0].time_secs, sid: page2[0].sid.clone() };
    let request = PageRequest { size: 3, page: 0, cursor: Some(before), offset: 0, cutoff: None };
    let back = store.list_rooms(&account, &RoomFilter::default(), &request).await.unwrap();
    let mut walked = expected[0..3].to_vec();
    walked.reverse();
    assert_eq!(sids(&back), walked, "a backward walk returns the rows before the cursor, nearest first");
    let offset = PageRequest { offset: 6, ..first_page(3) };
    assert_eq!(
        sids(&store.list_rooms(&account, &RoomFilter::default(), &offset).await.unwrap()),
        expected[6..].to_vec()
    );

    let by_type = RoomFilter { room_types: vec![RoomType::Go], ..RoomFilter::default() };
    assert_eq!(store.list_rooms(&account, &by_type, &first_page(100)).await.unwrap().len(), 3);
    let by_codec =
        RoomFilter { codecs: [Codec::Opus, Codec::H264].into_iter().collect::<CodecSet>(), ..RoomFilter::default() };
    assert_eq!(store.list_rooms(&account, &by_codec, &first_page(100)).await.unwrap().len(), 3);
    let by_name = RoomFilter { room_name: Some("room-1000".into()), ..RoomFilter::default() };
    assert_eq!(store.list_rooms(&account, &by_name, &first_page(100)).await.unwrap().len(), 2);
    let window = RoomFilter {
        created_after: Some(Millis(T0 + 1000)),
        created_before: Some(Millis(T0 + 2500)),
        ..RoomFilter::default()
    };
    assert_eq!(
        store.list_rooms(&account, &window, &first_page(100)).await.unwrap().len(),
        4,
        "after inclusive, before exclusive"
    );
    let cutoff = PageRequest { cutoff: Some(Millis(T0 + 2001)), ..first_page(100) };
    assert_eq!(
        store.list_rooms(&account, &RoomFilter::default(), &cutoff).await.unwrap().len(),
        1,
        "the cutoff rounds up to whole seconds"
    );
}

pub async fn time_alone_settles_rooms_when_revisited(store: &dyn Store) {
    let account = new_account(store).await;
    let room = RoomSid::generate();
    let settings = FoldSettings { settle_window_ms: 60_000, room_timeout_ms: 3_600_000 };
    let mut events = room_events(&room, 0, "group", "VP8");
    events.push(event(&room, "room-ended", 10_000, json!({})));
    store.append(&stamp(&account, events), &settings, Millis(T0 + 10_000)).await.unwrap();
    let state = |json: String| serde_json::from_str::<RoomSummary>(&json).unwrap().processing_state;
    assert_eq!(state(store.room(&account, &room).await.unwrap().unwrap().0), ProcessingState::InProgress);
    assert_eq!(store.revisit_due(&settings, Millis(T0 + 69_999)).await.unwrap(), 0, "not due yet");
    assert_eq!(store.revisit_due(&settings, Millis(T0 + 70_000)).await.unwrap(), 1);
    assert_eq!(state(store.room(&account, &room).await.unwrap().unwrap().0), ProcessingState::Complete);
    assert_eq!(store.revisit_due(&settings, Millis(T0 + 80_000)).await.unwrap(), 0, "a complete room is not revisited");
}

pub async fn a_rebuild_equals_incremental_ingestion(store: &dyn Store) {
    let account = new_account(store).await;
    let room = RoomSid::generate();
    let settings = FoldSettings::default();
    let now = Millis(T0 + 100_000);
    for event in stamp(&account, room_events(&room, 0, "group", "H264")) {
        store.append(std::slice::from_ref(&event), &settings, now).await.unwrap();
    }
    let before = store.room(&account, &room).await.unwrap().unwrap();
    let participants = store.list_participants(&account, &room, &first_page(10)).await.unwrap();
    let report = store.rebuild(&settings, now).await.unwrap();
    assert!(report.rooms >= 1 && report.events >= 3);
    assert_eq!(store.room(&account, &room).await.unwrap().unwrap(), before);
    assert_eq!(store.list_participants(&account, &room, &first_page(10)).await.unwrap(), participants);
}

pub async fn a_batch_repeating_an_event_stores_it_once(store: &dyn Store) {
    let account = new_account(store).await;
    let room = RoomSid::generate();
    let mut events = stamp(&account, room_events(&room, 0, "group", "VP8"));
    events.push(events[1].clone());
    events.insert(0, events[2].clone());
    let outcome = store.append(&events, &FoldSettings::default(), Millis(T0)).await.unwrap();
    assert_eq!((outcome.accepted, outcome.duplicates), (3, 2));
    let summary: RoomSummary = parse_summary(store.room(&account, &room).await.unwrap());
    assert_eq!((summary.unique_participants, summary.codecs), (1, vec![Codec::Vp8]));
}

/// An archived room as another Insights API would serve it, with `n` participants.
fn imported(room_sid: &RoomSid, name: &str, n: usize) -> ImportedRoom {
    let upstream = AccountSid::generate();
    let created = Millis(T0 - 3_600_000);
    let room = RoomSummary {
        account_sid: upstream.clone(),
        room_sid: room_sid.clone(),
        room_name: Some(name.into()),
        create_time: Some(created),
        end_time: Some(created.plus_ms(600_000)),
        room_type: Some(RoomType::GroupSmall),
        room_status: Some(RoomStatus::Completed),
        status_callback: Some("https://example.com/cb".into()),
        status_callback_method: None,
        created_method: None,
        end_reason: None,
        max_participants: Some(4),
        unique_participants: n as i64,
        unique_participant_identities: n as i64,
        concurrent_participants: n as i64,
        max_concurrent_participants: None,
        codecs: vec![Codec::H264, Codec::Opus],
        media_region: None,
        duration_sec: Some(600),
        total_participant_duration_sec: 100 * n as i64,
        total_recording_duration_sec: 0,
        processing_state: ProcessingState::Complete,
        recording_enabled: false,
        edge_location: None,
    };
    let participants = (0..n)
        .map(|i| ParticipantSummary {
            participant_sid: ParticipantSid::from_seed(format!("{room_sid}{i}").as_bytes()),
            participant_identity: Some(format!("user-{i}")),
            join_time: Some(created.plus_ms(1000 * (n - i) as i64)),
            leave_time: Some(created.plus_ms(600_000)),
            duration_sec: Some(100),
            account_sid: upstream.clone(),
            room_sid: room_sid.clone(),
            status: ParticipantStatus::Completed,
            codecs: vec![Codec::Opus],
            end_reason: None,
            error_code: None,
            error_code_url: None,
            media_region: None,
            properties: Some(json!({"k": i})),
            edge_location: None,
            publisher_info: None,
        })
        .collect();
    ImportedRoom { room, participants }
}

/// docs/behaviour.md §7.2: one identity's sessions in every room of the account, newest
/// `join_time` first, exact and case-sensitive, bounded by `join_time`, keyset paged; imported
/// rooms' participants included; another account's never.
pub async fn one_identity_s_sessions_are_found_across_rooms(store: &dyn Store) {
    use crate::query::IdentityFilter;
    let account = new_account(store).await;
    let other = new_account(store).await;
    let settings = FoldSettings::default();
    let join = |room: &RoomSid, at_ms: i64, identity: &str, seed: &str| {
        let sid = ParticipantSid::from_seed(format!("{room}{seed}").as_bytes());
        (
            sid.to_string(),
            event(
                room,
                "participant-connected",
                at_ms,
                json!({"participant_sid": sid, "participant_identity": identity}),
            ),
        )
    };
    let (first, second) = (RoomSid::generate(), RoomSid::generate());
    let mut expected = Vec::new();
    let mut events =
        vec![event(&first, "room-created", 0, json!({})), event(&second, "room-created", 5_000, json!({}))];
    for (room, at_ms, identity, seed) in [
        (&first, 1_000, "alice", "a1"),
        (&first, 9_000, "alice", "a2"),
        (&second, 6_000, "alice", "a3"),
        (&second, 7_000, "Alice", "x"),
        (&second, 8_000, "bob", "b"),
    ] {
        let (sid, e) = join(room, at_ms, identity, seed);
        if identity == "alice" {
            expected.push((at_ms, sid));
        }
        events.push(e);
    }
    store.append(&stamp(&account, events), &settings, Millis(T0)).await.unwrap();
    let elsewhere = RoomSid::generate();
    let (_, foreign) = join(&elsewhere, 2_000, "alice", "f");
    store
        .append(&stamp(&other, vec![event(&elsewhere, "room-created", 0, json!({})), foreign]), &settings, Millis(T0))
        .await
        .unwrap();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, sid)| sid).collect();

    let alice = IdentityFilter { identity: "alice".into(), created_after: None, created_before: None };
    let all = store.list_identity_sessions(&account, &alice, &first_page(10)).await.unwrap();
    assert_eq!(
        sids(&all),
        expected,
        "newest join first, in both rooms, re-joins apart, not 'Alice', not the other account's"
    );
    let rooms: Vec<String> =
        all.iter().map(|r| parse_summary::<ParticipantSummary>(Some(r.json.clone())).room_sid.to_string()).collect();
    assert_eq!(rooms, [first.to_string(), second.to_string(), first.to_string()]);

    let page1 = store.list_identity_sessions(&account, &alice, &first_page(2)).await.unwrap();
    assert_eq!(page1.len(), 3, "PageSize + 1 rows are fetched");
    let after = Cursor { direction: Direction::Next, time_secs: page1[1].time_secs, sid: page1[1].sid.clone() };
    let request = PageRequest { size: 2, page: 1, cursor: Some(after), offset: 0, cutoff: None };
    assert_eq!(sids(&store.list_identity_sessions(&account, &alice, &request).await.unwrap()), expected[2..].to_vec());

    let bounded = IdentityFilter {
        created_after: Some(Millis(T0 + 6_000)),
        created_before: Some(Millis(T0 + 9_000)),
        ..alice.clone()
    };
    let rows = store.list_identity_sessions(&account, &bounded, &first_page(10)).await.unwrap();
    assert_eq!(sids(&rows), expected[1..2].to_vec(), "after inclusive, before exclusive");
    let nobody = IdentityFilter { identity: "carol".into(), ..alice };
    assert!(store.list_identity_sessions(&account, &nobody, &first_page(10)).await.unwrap().is_empty());

    // An imported room's participants are found too.
    let archived = imported(&RoomSid::generate(), "archived", 2);
    let upstream_sid = archived.participants[1].participant_sid.to_string();
    store.import_rooms(&account, &[archived], None).await.unwrap();
    let user = IdentityFilter { identity: "user-1".into(), created_after: None, created_before: None };
    assert_eq!(sids(&store.list_identity_sessions(&account, &user, &first_page(10)).await.unwrap()), [upstream_sid]);
}

/// docs/behaviour.md §7.1: what each room adds to the usage answer is what its current summary
/// says, for every order the events arrive in, one by one or in one batch, and after a rebuild;
/// imported rooms count; purged rooms and other accounts' rooms do not.
pub async fn room_usage_follows_the_summaries_in_any_order_and_after_a_rebuild(store: &dyn Store) {
    use crate::usage::{day_of, RoomUsage};
    let settings = FoldSettings::default();
    let now = Millis(T0 + 3 * 86_400_000);
    let day = 86_400_000;
    let (a, b) = (RoomSid::generate(), RoomSid::generate());
    let person = |room: &RoomSid, n: u8| ParticipantSid::from_seed(format!("{room}{n}").as_bytes());
    let events = vec![
        event(&a, "room-created", 0, json!({"room_type": "group"})),
        event(
            &a,
            "participant-connected",
            1_000,
            json!({"participant_sid": person(&a, 1), "participant_identity": "alice"}),
        ),
        event(
            &a,
            "participant-connected",
            2_000,
            json!({"participant_sid": person(&a, 2), "participant_identity": "bob"}),
        ),
        event(
            &a,
            "participant-disconnected",
            62_000,
            json!({"participant_sid": person(&a, 1), "participant_duration": 61}),
        ),
        event(
            &a,
            "participant-connected",
            70_000,
            json!({"participant_sid": person(&a, 3), "participant_identity": "alice"}),
        ),
        event(&a, "room-ended", 600_000, json!({"room_duration": 600})),
        event(&b, "room-created", day, json!({"room_type": "go"})),
        event(
            &b,
            "participant-connected",
            day + 1_000,
            json!({"participant_sid": person(&b, 1), "participant_identity": "carol"}),
        ),
    ];
    let usage = |account: AccountSid| async move {
        let mut rows: Vec<String> =
            store.room_usage(&account, 0, i64::MAX / 2).await.unwrap().iter().map(|u| format!("{u:?}")).collect();
        rows.sort();
        rows
    };
    let one_by_one = new_account(store).await;
    for e in stamp(&one_by_one, events.clone()) {
        store.append(std::slice::from_ref(&e), &settings, now).await.unwrap();
    }
    let expected = usage(one_by_one.clone()).await;
    assert_eq!(expected.len(), 2, "one row per room");
    let mut reversed = events.clone();
    reversed.reverse();
    let mut rotated = events.clone();
    rotated.rotate_left(3);
    for order in [reversed, rotated] {
        let account = new_account(store).await;
        for e in stamp(&account, order.clone()) {
            store.append(std::slice::from_ref(&e), &settings, now).await.unwrap();
        }
        assert_eq!(usage(account.clone()).await, expected, "another order, the same usage");
        let batch = new_account(store).await;
        store.append(&stamp(&batch, order), &settings, now).await.unwrap();
        assert_eq!(usage(batch).await, expected, "in one batch too");
    }
    let found = store.room_usage(&one_by_one, day_of(Millis(T0)), day_of(Millis(T0))).await.unwrap();
    assert_eq!(found.len(), 1, "room b is on the next day");
    let room_a: &RoomUsage = &found[0];
    assert_eq!(
        (room_a.sessions, room_a.participant_seconds, room_a.participant_minutes),
        (3, 61 + 598 + 530, 2 + 10 + 9)
    );
    assert_eq!((room_a.completed, room_a.room_seconds), (true, 600));
    assert_eq!(room_a.identities.iter().map(String::as_str).collect::<Vec<_>>(), ["alice", "bob"]);

    store.rebuild(&settings, now).await.unwrap();
    assert_eq!(usage(one_by_one.clone()).await, expected, "a rebuild gives the same usage");

    let archive = new_account(store).await;
    let archived = imported(&RoomSid::generate(), "archived", 3);
    store.import_rooms(&archive, std::slice::from_ref(&archived), None).await.unwrap();
    let imported_usage = store.room_usage(&archive, 0, i64::MAX / 2).await.unwrap();
    assert_eq!(imported_usage, [RoomUsage::of(&archived.room, &archived.participants)], "an imported room counts");

    store.purge_before(Millis(T0 + day)).await.unwrap();
    assert_eq!(usage(one_by_one).await.len(), 1, "a purged room no longer counts");
}

fn parse_summary<T: serde::de::DeserializeOwned>(json: Option<crate::summary::StoredJson>) -> T {
    serde_json::from_str(&json.expect("the summary exists").0).expect("a stored summary parses")
}

pub async fn imported_rooms_are_served_kept_and_never_replace_folded_ones(store: &dyn Store) {
    let account = new_account(store).await;
    let settings = FoldSettings::default();
    let folded = RoomSid::generate();
    store.append(&stamp(&account, room_events(&folded, 0, "group", "VP8")), &settings, Millis(T0)).await.unwrap();
    let folded_before = store.room(&account, &folded).await.unwrap();
    let archived = RoomSid::generate();
    let checkpoint = |value: &str| Checkpoint { key: format!("test|{account}"), value: value.into() };

    let batch = [imported(&archived, "archived", 3), imported(&folded, "upstream copy", 1)];
    let outcome = store.import_rooms(&account, &batch, Some(&checkpoint("one"))).await.unwrap();
    assert_eq!(outcome, ImportOutcome { rooms: 1, participants: 3, skipped: 1 }, "a folded room is skipped");
    assert_eq!(store.room(&account, &folded).await.unwrap(), folded_before, "a folded room is left alone");
    let room: RoomSummary = parse_summary(store.room(&account, &archived).await.unwrap());
    assert_eq!(room, RoomSummary { account_sid: account.clone(), ..batch[0].room.clone() }, "stored field for field");
    let rows = store.list_participants(&account, &archived, &first_page(10)).await.unwrap();
    let mut expected: Vec<ParticipantSummary> = batch[0].participants.clone();
    expected.iter_mut().for_each(|p| p.account_sid = account.clone());
    expected.reverse();
    let listed: Vec<ParticipantSummary> =
        rows.iter().map(|r| serde_json::from_str(&r.json.0).unwrap()).collect::<Vec<_>>();
    assert_eq!(listed, expected, "participants in join order, under the local account");
    let by_type = RoomFilter {
        room_types: vec![RoomType::GroupSmall],
        codecs: [Codec::H264].into_iter().collect(),
        ..RoomFilter::default()
    };
    assert_eq!(sids(&store.list_rooms(&account, &by_type, &first_page(10)).await.unwrap()), vec![archived.to_string()]);
    assert_eq!(store.import_checkpoint(&checkpoint("").key).await.unwrap().as_deref(), Some("one"));

    let again = [imported(&archived, "renamed", 1)];
    let outcome = store.import_rooms(&account, &again, Some(&checkpoint("two"))).await.unwrap();
    assert_eq!(outcome, ImportOutcome { rooms: 1, participants: 1, skipped: 0 });
    let room: RoomSummary = parse_summary(store.room(&account, &archived).await.unwrap());
    assert_eq!(room.room_name.as_deref(), Some("renamed"), "a re-import replaces the earlier one");
    assert_eq!(store.list_participants(&account, &archived, &first_page(10)).await.unwrap().len(), 1);
    assert_eq!(store.import_checkpoint(&checkpoint("").key).await.unwrap().as_deref(), Some("two"));
    assert_eq!(store.import_checkpoint("unknown").await.unwrap(), None);

    let before = store.room(&account, &archived).await.unwrap();
    let late = stamp(&account, room_events(&archived, 5000, "go", "VP9"));
    assert_eq!(store.append(&late, &settings, Millis(T0)).await.unwrap().accepted, 3, "its events are kept");
    store.rebuild(&settings, Millis(T0)).await.unwrap();
    store.revisit_due(&settings, Millis(T0 + 100 * 86_400_000)).await.unwrap();
    assert_eq!(store.room(&account, &archived).await.unwrap(), before, "ingest, rebuild and revisits keep it");
    assert_eq!(store.list_participants(&account, &archived, &first_page(10)).await.unwrap().len(), 1);
}

pub async fn purging_removes_old_rooms_with_their_participants_and_events(store: &dyn Store) {
    let account = new_account(store).await;
    let (old, new) = (RoomSid::generate(), RoomSid::generate());
    let settings = FoldSettings::default();
    store.append(&stamp(&account, room_events(&old, 0, "group", "VP8")), &settings, Millis(T0)).await.unwrap();
    store.append(&stamp(&account, room_events(&new, 10_000, "group", "VP8")), &settings, Millis(T0)).await.unwrap();
    assert_eq!(store.purge_before(Millis(T0 + 5_000)).await.unwrap(), 1, "one room created before the cut-off");
    assert!(store.room(&account, &old).await.unwrap().is_none());
    assert!(store.list_participants(&account, &old, &first_page(10)).await.unwrap().is_empty());
    assert!(store.room(&account, &new).await.unwrap().is_some(), "a newer room stays");
    assert_eq!(store.list_participants(&account, &new, &first_page(10)).await.unwrap().len(), 1);
    // Its events went too: the same events again are new, not duplicates.
    let again =
        store.append(&stamp(&account, room_events(&old, 0, "group", "VP8")), &settings, Millis(T0)).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (3, 0));
}

/// Generates one `#[tokio::test]` per contract case for a backend; `$make` is an async
/// expression yielding a fresh store (and anything that must live as long, e.g. a tempdir).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@cases $make;
            accounts_and_keys_round_trip,
            livekit_keys_belong_to_one_account_and_can_be_replaced_or_removed,
            a_rooms_raw_events_are_read_back_in_time_order,
            a_lease_has_one_holder_until_it_expires_or_is_released,
            callbacks_queue_one_forward_per_target_in_their_transaction,
            rooms_are_announced_when_first_seen_and_when_final,
            a_claim_takes_a_bounded_share_of_each_target,
            appending_counts_new_events_and_repeats,
            an_event_id_is_scoped_to_its_room,
            lists_are_ordered_filtered_keyset_paged_and_isolated,
            one_identity_s_sessions_are_found_across_rooms,
            room_usage_follows_the_summaries_in_any_order_and_after_a_rebuild,
            time_alone_settles_rooms_when_revisited,
            a_rebuild_equals_incremental_ingestion,
            a_batch_repeating_an_event_stores_it_once,
            imported_rooms_are_served_kept_and_never_replace_folded_ones,
            purging_removes_old_rooms_with_their_participants_and_events,
        );
    };
    (@cases $make:expr; $($case:ident,)*) => {$(
        #[tokio::test]
        async fn $case() {
            let (store, _guard) = $make.await;
            $crate::contract::$case(&store).await;
        }
    )*};
}
