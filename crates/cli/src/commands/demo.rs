//! `roomlog demo`: realistic rooms generated through the event path the server uses
//! (`AccountEvent` → `Store::append`, in batches): room types, codecs, re-joins, recordings and
//! rooms still in progress. The same seed gives the same events (SIDs and event ids derive from
//! it), so a second run with the same seed adds nothing.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use roomlog_core::account::Account;
use roomlog_core::vocab::{EventKind, TrackKind};
use roomlog_core::{AccountEvent, AccountSid, Millis, ParticipantSid, RoomEvent, RoomSid, Store};
use serde_json::{json, Value};

use roomlog_server::database::open_store;

use crate::client_args::DateArg;
use crate::settings::{DatabaseArgs, FoldArgs};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// How many rooms to generate.
    #[arg(long, default_value_t = 200)]
    pub rooms: u64,
    /// Spread the rooms' start times over this many days, up to now.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// The same seed generates the same rooms.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Give every room exactly this many participants (default: a realistic mix).
    #[arg(long)]
    pub participants: Option<u32>,
    /// The account the rooms belong to. Default: the only account (created on an empty database).
    #[arg(long, value_name = "AC…")]
    pub account: Option<AccountSid>,
    /// The end of the generated period (default: now), for reproducible data.
    #[arg(long, value_name = "DATE")]
    pub until: Option<DateArg>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub fold: FoldArgs,
}

/// Rooms per `Store::append` call (one transaction).
const BATCH_ROOMS: u64 = 500;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let store = open_store(&args.database.config()).await?;
    let account = demo_account(store.as_ref(), args.account.clone()).await?;
    let settings = args.fold.settings();
    let plan = Plan {
        account: account.clone(),
        seed: args.seed,
        until: args.until.map_or_else(Millis::now, |d| d.0),
        span_ms: i64::from(args.days.max(1)) * 86_400_000,
        participants: args.participants,
    };
    let started = Instant::now();
    // Generation runs on its own thread, one batch ahead of the writes.
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<AccountEvent>>(2);
    let rooms = args.rooms;
    let generator = tokio::task::spawn_blocking(move || {
        for first in (0..rooms).step_by(BATCH_ROOMS as usize) {
            let events = (first..(first + BATCH_ROOMS).min(rooms)).flat_map(|i| plan.room(i)).collect();
            if batches.blocking_send(events).is_err() {
                return;
            }
        }
    });
    let (mut accepted, mut duplicates) = (0, 0);
    while let Some(events) = incoming.recv().await {
        let outcome = store.append(&events, &settings, Millis::now()).await?;
        accepted += outcome.accepted;
        duplicates += outcome.duplicates;
    }
    generator.await?;
    println!(
        "demo: {rooms} rooms for {account}: {accepted} events stored, {duplicates} already there ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn demo_account(store: &dyn Store, chosen: Option<AccountSid>) -> anyhow::Result<AccountSid> {
    if let Some(sid) = chosen {
        anyhow::ensure!(store.account(&sid).await?.is_some(), "no account {sid} in this database");
        return Ok(sid);
    }
    match store.accounts().await?.as_slice() {
        [only] => Ok(only.sid.clone()),
        [] => {
            let account = Account::generate("demo account");
            store.insert_account(&account).await.context("creating an account")?;
            println!("Created an account for the demo. Keep these; the auth token is not shown again:");
            println!("{}", account.shell_exports());
            Ok(account.sid)
        }
        many => anyhow::bail!("this database has {} accounts: choose one with --account AC…", many.len()),
    }
}

/// SplitMix64: tiny, fast and stable forever, so a seed means the same rooms in every build.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n.max(1) as u64) as i64
    }
    fn chance(&mut self, percent: i64) -> bool {
        self.below(100) < percent
    }
    /// One of `items`, by weight.
    fn pick<T: Copy>(&mut self, items: &[(T, i64)]) -> T {
        let mut roll = self.below(items.iter().map(|(_, w)| w).sum());
        for (item, weight) in items {
            if roll < *weight {
                return *item;
            }
            roll -= weight;
        }
        items[0].0
    }
}

const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia",
    "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara",
];
const ROOM_NAMES: &[&str] = &["standup", "support", "interview", "sales-demo", "tutoring", "telehealth", "all-hands"];
const MINUTE: i64 = 60_000;

struct Plan {
    account: AccountSid,
    seed: u64,
    until: Millis,
    span_ms: i64,
    participants: Option<u32>,
}

/// The events of one room, in the making.
struct RoomBuilder<'a> {
    plan: &'a Plan,
    index: u64,
    sid: RoomSid,
    events: Vec<AccountEvent>,
}

impl RoomBuilder<'_> {
    /// Adds an event unless it lies after the end of the period (it has not happened yet).
    fn push(&mut self, kind: EventKind, at: Millis, fields: Value) {
        if at > self.plan.until {
            return;
        }
        let mut body = json!({"event": kind.as_str(), "timestamp": at.to_rfc3339_millis(), "room_sid": self.sid});
        if let (Some(target), Value::Object(fields)) = (body.as_object_mut(), fields) {
            target.extend(fields);
        }
        let event: RoomEvent = serde_json::from_value(body).expect("demo events are valid");
        let id = format!("demo:{}:{:010}:{:03}", self.plan.seed, self.index, self.events.len());
        self.events.push(AccountEvent::new(self.plan.account.clone(), Some(id), event, "demo", "null".to_owned()));
    }
}

impl RoomBuilder<'_> {
    /// A participant's audio track (and video, mostly), recorded when the room records.
    fn tracks(
        &mut self,
        rng: &mut Rng,
        pa: &ParticipantSid,
        (join, leave): (Millis, Millis),
        room_type: &str,
        recording: bool,
    ) {
        let audio = if rng.chance(3) { "PCMU" } else { "OPUS" };
        let mut tracks = vec![(TrackKind::Audio, audio)];
        if rng.chance(85) {
            // Safari and mobile peers favour H264 where the media is not routed through a server.
            let weights = if matches!(room_type, "go" | "peer-to-peer") { [30, 65, 5] } else { [10, 85, 5] };
            tracks
                .push((TrackKind::Video, rng.pick(&[("H264", weights[0]), ("VP8", weights[1]), ("VP9", weights[2])])));
        }
        for (n, (kind, codec)) in tracks.into_iter().enumerate() {
            let track = format!("MT{}", &ParticipantSid::from_seed(format!("{pa}:{n}").as_bytes()).as_str()[2..]);
            let at = join.plus_ms(500 + 200 * n as i64);
            let added = json!({"participant_sid": pa, "track_sid": track, "track_kind": kind.as_str(),
                               "track_name": kind.as_str(), "codec": codec});
            self.push(EventKind::TrackAdded, at, added);
            if recording && codec != "PCMU" {
                let mut recorded = json!({"participant_sid": pa, "recording_sid": format!("RT{}", &track[2..]),
                                          "source_sid": track, "codec": codec, "track_name": kind.as_str()});
                self.push(EventKind::RecordingStarted, at.plus_ms(100), recorded.clone());
                recorded["duration"] = json!(leave.whole_secs_since(at));
                self.push(EventKind::RecordingCompleted, leave, recorded);
            }
        }
    }
}

impl Plan {
    fn room(&self, index: u64) -> Vec<AccountEvent> {
        let mut rng = Rng::new(self.seed, index);
        // The room's number leads its SID: rooms written together sit together in the indexes
        // keyed by room, which keeps each batch's writes local (and a 100 000-room demo fast).
        let hashed = RoomSid::from_seed(format!("demo:{}:{index}", self.seed).as_bytes());
        let sid: RoomSid = format!("RM{:08x}{}", index as u32, &hashed.as_str()[10..]).parse().expect("a room SID");
        let mut room = RoomBuilder { plan: self, index, sid: sid.clone(), events: Vec::with_capacity(24) };
        let room_type = rng.pick(&[("group", 50), ("group-small", 20), ("peer-to-peer", 20), ("go", 10)]);
        // Mostly office hours; 2% started in the last hour, so some rooms are still going on.
        let created = if rng.chance(2) {
            self.until.plus_ms(-rng.below(60 * MINUTE))
        } else {
            let day =
                self.until.0 - self.until.0.rem_euclid(86_400_000) - rng.below(self.span_ms / 86_400_000) * 86_400_000;
            let hour = if rng.chance(80) { 8 + rng.below(10) } else { rng.below(24) };
            let at = Millis(day + hour * 60 * MINUTE + rng.below(60 * MINUTE));
            // Later today than now: the same hour yesterday.
            if at > self.until.plus_ms(-2 * 60 * MINUTE) {
                at.plus_ms(-1440 * MINUTE)
            } else {
                at
            }
        };
        let length = 2 * MINUTE + rng.below(40 * MINUTE) * rng.below(4).max(1) / 2 + rng.below(60_000);
        let end = created.plus_ms(length);
        let (max, typical) = match room_type {
            "go" => (2, 2),
            "peer-to-peer" => (10, 3),
            "group-small" => (4, 4),
            _ => (50, 2 + rng.below(4) + if rng.chance(10) { rng.below(20) } else { 0 }),
        };
        let people = self.participants.map_or(1 + rng.below(typical), i64::from);
        let recording = room_type != "go" && room_type != "peer-to-peer" && rng.chance(15);
        let (region, edge) = rng.pick(&[
            (("us1", "ashburn"), 60),
            (("ie1", "dublin"), 15),
            (("de1", "frankfurt"), 10),
            (("au1", "sydney"), 5),
            (("jp1", "tokyo"), 5),
            (("sg1", "singapore"), 5),
        ]);
        let name = format!("{}-{}", ROOM_NAMES[rng.below(ROOM_NAMES.len() as i64) as usize], index % 997);
        room.push(
            EventKind::RoomCreated,
            created,
            json!({
                "room_name": name, "room_type": room_type, "media_region": region, "edge_location": edge,
                "created_method": rng.pick(&[("sdk", 60), ("api", 30), ("ad_hoc", 10)]), "max_participants": max,
                "status_callback": "https://example.com/video/status", "status_callback_method": "POST",
                "recording_enabled": recording,
            }),
        );
        let mut participant = 0;
        for person in 0..people {
            let identity = format!("{}-{}", NAMES[rng.below(NAMES.len() as i64) as usize], person);
            // The host is there at once; the others trickle in.
            let window = if person == 0 { 20_000 } else { (length / 3).max(1_000) };
            let mut join = created.plus_ms(1_000 + rng.below(window));
            // One in ten drops out and comes back: a re-join is a new participant SID.
            let sessions = if self.participants.is_none() && rng.chance(10) { 2 } else { 1 };
            for session in 0..sessions {
                if join >= end {
                    break;
                }
                let early = join.plus_ms(rng.below(5 * MINUTE) + 10_000).min(end.plus_ms(-1_000));
                let leave = if session + 1 < sessions { early } else { end };
                let pa = ParticipantSid::from_seed(format!("{sid}:{participant}").as_bytes());
                participant += 1;
                let who = json!({"participant_sid": pa, "participant_identity": identity});
                let connected = json!({"participant_sid": pa, "participant_identity": identity,
                                       "edge_location": edge, "media_region": region});
                room.push(EventKind::ParticipantConnected, join, connected);
                room.tracks(&mut rng, &pa, (join, leave), room_type, recording);
                room.push(EventKind::ParticipantDisconnected, leave, who);
                join = leave.plus_ms(rng.below(30_000) + 1_000);
            }
        }
        let reason = if rng.chance(40) { "room_ended_via_api" } else { "timeout" };
        room.push(EventKind::RoomEnded, end.plus_ms(1_000), json!({"end_reason": reason}));
        room.events
    }
}
