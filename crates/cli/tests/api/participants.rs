//! The participants resources (docs/behaviour.md §1–§2): every field, join order, paging, and a
//! participant found only under its own room.

use serde_json::Value;

use crate::fixtures::{ago, at, participant, room, Participant, Room};
use crate::helpers::{spawn_app, spawn_app_with, Settings};
use crate::inspect::{is_api_time, pairs, sids, url_parts};
use crate::paging::walk;

const PARTICIPANT_FIELDS: [&str; 17] = [
    "participant_sid",
    "participant_identity",
    "join_time",
    "leave_time",
    "duration_sec",
    "account_sid",
    "room_sid",
    "status",
    "codecs",
    "end_reason",
    "error_code",
    "error_code_url",
    "media_region",
    "properties",
    "edge_location",
    "publisher_info",
    "url",
];

/// A room with `count` participants joining two by two in the same second, from `18:00:01`;
/// returned in list order (join second, then SID).
fn crowd(lobby: &Room, count: u32) -> (Vec<Participant>, Vec<Value>) {
    let people: Vec<Participant> = (0..count).map(|i| participant(&format!("guest {i}"))).collect();
    let mut events = vec![lobby.created(&at(0, 0))];
    events.extend(people.iter().enumerate().map(|(i, p)| lobby.connected(p, &at(0, 1 + i as u32 / 2))));
    let mut ordered = people.clone();
    ordered.sort_by_key(|p| (people.iter().position(|q| q.sid == p.sid).unwrap() / 2, p.sid.clone()));
    (ordered, events)
}

#[tokio::test]
async fn a_participant_summary_has_every_field_and_an_absolute_url() {
    let app = spawn_app().await;
    let (lobby, alice) = (room("lobby"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), lobby.connected(&alice, "2025-10-27T18:00:01.250Z")]).await;

    let path = format!("/v1/Video/Rooms/{}/Participants/{}", lobby.sid, alice.sid);
    let summary = app.get(&path).await.ok("fetching a participant");

    let object = summary.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = PARTICIPANT_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "exactly the schema's fields, no links");
    assert_eq!(summary["url"], format!("{}{path}", app.base_url));
    assert_eq!(summary["participant_sid"], alice.sid.as_str());
    assert_eq!(summary["participant_identity"], "alice");
    assert_eq!(summary["room_sid"], lobby.sid.as_str());
    assert_eq!(summary["account_sid"], app.account_sid.as_str());
    assert_eq!(summary["join_time"], "2025-10-27T18:00:01Z");
    assert!(is_api_time(summary["join_time"].as_str().unwrap_or_default()));
    assert_eq!(summary["status"], "in_progress");
    assert_eq!(summary["codecs"], serde_json::json!([]));
    for field in [
        "leave_time",
        "duration_sec",
        "end_reason",
        "error_code",
        "error_code_url",
        "media_region",
        "properties",
        "edge_location",
        "publisher_info",
    ] {
        assert_eq!(summary[field], Value::Null, "{field} is null while unknown");
    }
}

#[tokio::test]
async fn participants_are_listed_by_join_time_then_participant_sid() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    let (first, late) = (participant("first"), participant("late"));
    let mut same_second = [participant("twin a"), participant("twin b")];
    same_second.sort_by(|a, b| a.sid.cmp(&b.sid));
    // The twins join in one second, the larger SID earlier: join_time is truncated, so the
    // SID orders them.
    app.ingest([
        lobby.created(&at(0, 0)),
        lobby.connected(&late, &at(0, 10)),
        lobby.connected(&same_second[0], "2025-10-27T18:00:05.900Z"),
        lobby.connected(&same_second[1], "2025-10-27T18:00:05.100Z"),
        lobby.connected(&first, &at(0, 1)),
    ])
    .await;

    let listed = app.participants(&lobby.sid).await;

    let expected = [&first, &same_second[0], &same_second[1], &late].map(|p| p.sid.clone());
    assert_eq!(sids(&Value::Array(listed.clone()), "participant_sid"), expected);
    for summary in &listed {
        let url = format!(
            "{}/v1/Video/Rooms/{}/Participants/{}",
            app.base_url,
            lobby.sid,
            summary["participant_sid"].as_str().unwrap()
        );
        assert_eq!(summary["url"], url, "each listed participant has its absolute url");
    }
}

#[tokio::test]
async fn participants_are_paged_forward_and_back_like_rooms() {
    let app = spawn_app().await;
    let lobby = room("lobby");
    let (people, events) = crowd(&lobby, 5);
    app.ingest(events).await;
    let path = format!("/v1/Video/Rooms/{}/Participants", lobby.sid);

    let forward = walk(&app, &format!("{path}?PageSize=3"), "next_page_url").await;
    let last = forward.last().expect("a last page")["meta"]["url"].as_str().expect("a url").to_owned();
    let mut backward = walk(&app, &last, "previous_page_url").await;
    backward.reverse();

    let pages = |walked: &[Value]| -> Vec<Vec<String>> {
        walked.iter().map(|p| sids(&p["participants"], "participant_sid")).collect()
    };
    assert_eq!(
        pages(&forward).concat(),
        people.iter().map(|p| p.sid.clone()).collect::<Vec<_>>(),
        "join order, once each"
    );
    assert_eq!(pages(&forward).iter().map(Vec::len).collect::<Vec<_>>(), [3, 2], "a tie straddles the pages");
    assert_eq!(pages(&backward), pages(&forward), "the same pages walking back");
    let meta = &forward[0]["meta"];
    assert_eq!(meta["key"], "participants");
    assert_eq!(meta["page_size"], 3);
    assert_eq!(meta["previous_page_url"], Value::Null);
    let first_page = meta["first_page_url"].as_str().expect("a first_page_url");
    assert_eq!(url_parts(first_page), (format!("{}{path}", app.base_url), pairs(&[("PageSize", "3"), ("Page", "0")])));
    let clamped = app.get(&format!("{path}?PageSize=5000")).await.ok("a large PageSize");
    assert_eq!(clamped["meta"]["page_size"], 1000, "clamped like rooms");
}

#[tokio::test]
async fn a_participant_is_found_only_under_its_own_room() {
    let app = spawn_app().await;
    let (lobby, hall, alice) = (room("lobby"), room("hall"), participant("alice"));
    app.ingest([lobby.created(&at(0, 0)), hall.created(&at(0, 0)), lobby.connected(&alice, &at(0, 1))]).await;

    let cases = [
        ("under another room", format!("/v1/Video/Rooms/{}/Participants/{}", hall.sid, alice.sid)),
        ("an unknown participant", format!("/v1/Video/Rooms/{}/Participants/{}", lobby.sid, participant("x").sid)),
        ("under an unknown room", format!("/v1/Video/Rooms/{}/Participants/{}", room("x").sid, alice.sid)),
        ("the list of an unknown room", format!("/v1/Video/Rooms/{}/Participants", room("x").sid)),
    ];
    for (case, path) in cases {
        let message = app.get(&path).await.assert_error(404, 20404, case);
        let resource = path.trim_start_matches("/v1");
        assert_eq!(message, format!("The requested resource {resource} was not found"), "{case}");
    }
    assert!(app.participants(&hall.sid).await.is_empty(), "a room without participants lists none");
}

#[tokio::test]
async fn the_participants_list_has_no_default_window() {
    let app = spawn_app_with(Settings { default_window: "24h", ..Settings::default() }).await;
    let (old, alice) = (room("three days old"), participant("alice"));
    app.ingest([old.created(&ago(3 * 86_400)), old.connected(&alice, &ago(3 * 86_400 - 5))]).await;

    assert!(app.room_sids("").await.is_empty(), "the room is outside the window");
    assert_eq!(sids(&Value::Array(app.participants(&old.sid).await), "participant_sid"), [alice.sid.as_str()]);
}
