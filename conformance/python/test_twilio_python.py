"""The official `twilio` Python package, unmodified, against a real roomlog server.

The only change to the client is where its Insights domain points:
`client.insights.base_url = server.url` (twilio.base.domain.Domain keeps `base_url` as a plain
attribute and joins it with the version's relative URI on every request).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from roomlog_harness import RoomlogServer, new_sid, seed

UTC = dt.timezone.utc
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def t(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def client_for(server: RoomlogServer, username=None, password=None, account_sid=None) -> Client:
    client = Client(
        username or server.account_sid,
        password or server.auth_token,
        account_sid,
    )
    client.insights.base_url = server.url
    return client


@pytest.fixture(scope="module")
def client(seeded) -> Client:
    return client_for(seeded.server)


def sids(records) -> list:
    return [r.room_sid for r in records]


# -- listing with filters -------------------------------------------------------

FILTER_CASES = [
    # (id, list() kwargs, expected labels in order)
    ("no-filter", {}, ["LIVE", "R6", "R5", "R4", "R3", "R2", "R1", "R7"]),
    ("type-go", {"room_type": ["go"]}, ["R2"]),
    ("type-group-or-go", {"room_type": ["group", "go"]}, ["LIVE", "R6", "R5", "R2", "R1", "R7"]),
    ("type-p2p-or-small", {"room_type": ["peer_to_peer", "group_small"]}, ["R4", "R3"]),
    ("type-group-small", {"room_type": ["group_small"]}, ["R4"]),
    ("codec-VP8", {"codec": ["VP8"]}, ["R6", "R1"]),
    ("codec-H264", {"codec": ["H264"]}, ["LIVE", "R2"]),
    ("codec-VP9", {"codec": ["VP9"]}, ["R3"]),
    ("codec-opus", {"codec": ["opus"]}, ["R5", "R1"]),
    ("codec-any-of-VP8-H264", {"codec": ["VP8", "H264"]}, ["LIVE", "R6", "R2", "R1"]),
    ("name-standup", {"room_name": "standup"}, ["R2", "R1", "R7"]),
    ("name-case-sensitive", {"room_name": "Standup"}, []),
    ("name-unknown", {"room_name": "no-such-room"}, []),
    (
        "created-after-inclusive",
        {"created_after": t("2025-03-03T10:00:00Z")},
        ["LIVE", "R6", "R5", "R4", "R3"],
    ),
    (
        "created-before-exclusive",
        {"created_before": t("2025-03-03T10:00:00Z")},
        ["R2", "R1", "R7"],
    ),
    (
        "created-range",
        {"created_after": t("2025-03-01T10:00:00Z"), "created_before": t("2025-03-02T10:00:00Z")},
        ["R1", "R7"],
    ),
    ("created-before-first", {"created_before": t("2025-03-01T10:00:00Z")}, []),
    (
        "type-codec-name",
        {"room_type": ["group"], "codec": ["opus", "VP9"], "room_name": "allhands"},
        ["R5"],
    ),
    (
        "type-and-dates",
        {
            "room_type": ["group", "group_small"],
            "created_after": t("2025-03-04T00:00:00Z"),
            "created_before": t("2025-03-06T00:00:00Z"),
        },
        ["R6", "R5", "R4"],
    ),
]


@pytest.mark.parametrize("kwargs,expected", [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
def test_list_rooms_filters(client, seeded, kwargs, expected):
    got = client.insights.v1.rooms.list(**kwargs)
    assert sids(got) == seeded.sids(*expected)


@pytest.mark.parametrize("kwargs,expected", [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
def test_list_rooms_filters_small_pages(client, seeded, kwargs, expected):
    """The same filters, walked two rooms per page: filters must survive next_page_url."""
    got = client.insights.v1.rooms.list(page_size=2, **kwargs)
    assert sids(got) == seeded.sids(*expected)


def test_deprecated_alias_lists_the_same(client, seeded):
    with pytest.warns(DeprecationWarning):
        rooms = client.insights.rooms
    assert sids(rooms.list()) == seeded.sids(*seeded.order)


# -- paging ------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 8, 9, 50])
def test_paging_every_room_once_in_order(client, seeded, page_size):
    got = client.insights.v1.rooms.list(page_size=page_size)
    assert sids(got) == seeded.sids(*seeded.order)
    assert len(set(sids(got))) == len(got)


@pytest.mark.parametrize("limit,page_size", [(5, 2), (3, None), (1, None), (8, 3), (100, 2), (2000, None)])
def test_paging_with_limit(client, seeded, limit, page_size):
    got = client.insights.v1.rooms.list(limit=limit, page_size=page_size)
    assert sids(got) == seeded.sids(*seeded.order)[:limit]


def test_stream_is_lazy_and_ordered(client, seeded):
    stream = client.insights.v1.rooms.stream(page_size=2)
    first = [next(stream).room_sid for _ in range(3)]
    assert first == seeded.sids(*seeded.order)[:3]
    assert first + [r.room_sid for r in stream] == seeded.sids(*seeded.order)


def test_page_objects_walk_forward_and_back(client, seeded):
    rooms = client.insights.v1.rooms
    page = rooms.page(page_size=2)
    assert page.previous_page_url is None
    pages = [[r.room_sid for r in page]]  # a Page is an iterator: read it once
    while page.next_page_url is not None:
        assert page.next_page_url.startswith(seeded.server.url + "/v1/Video/Rooms?")
        page = page.next_page()
        assert page is not None
        pages.append([r.room_sid for r in page])
    assert [len(p) for p in pages] == [2, 2, 2, 2]
    assert [sid for p in pages for sid in p] == seeded.sids(*seeded.order)
    assert page.next_page() is None

    # Walk back from the last page with previous_page_url.
    back = [pages[-1]]
    while page.previous_page_url is not None:
        assert page.previous_page_url.startswith(seeded.server.url + "/v1/Video/Rooms?")
        page = page.previous_page()
        back.append([r.room_sid for r in page])
    assert list(reversed(back)) == pages


def test_page_meta_on_the_wire(seeded):
    srv = seeded.server
    r = srv.get("/v1/Video/Rooms", params={"PageSize": 3})
    assert r.status_code == 200, r.text
    meta = r.json()["meta"]
    assert meta["key"] == "rooms"
    assert meta["page"] == 0
    assert meta["page_size"] == 3
    assert meta["previous_page_url"] is None
    assert meta["first_page_url"].startswith(srv.url + "/v1/Video/Rooms?")
    assert "PageSize=3" in meta["first_page_url"] and "Page=0" in meta["first_page_url"]
    assert meta["url"].startswith(srv.url + "/v1/Video/Rooms?")
    nxt = meta["next_page_url"]
    assert nxt.startswith(srv.url + "/v1/Video/Rooms?")
    assert "Page=1" in nxt and "PageToken=PA" in nxt

    last = srv.get("/v1/Video/Rooms", params={"PageSize": 8}).json()
    assert len(last["rooms"]) == 8
    assert last["meta"]["next_page_url"] is None


def test_page_size_above_1000_is_clamped(seeded):
    r = seeded.server.get("/v1/Video/Rooms", params={"PageSize": 5000})
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["page_size"] == 1000
    assert [x["room_sid"] for x in r.json()["rooms"]] == seeded.sids(*seeded.order)


def test_paging_is_stable_when_rooms_are_inserted(make_server):
    """Keyset paging: rooms created while a client pages never make it skip or repeat a room."""
    srv = make_server()
    original = []
    events = []
    for i in range(6):
        sid = "RM" + format(0xA0 + i, "02x") + "0" * 30
        original.append(sid)
        events.append(
            {
                "event": "room-created",
                "timestamp": f"2025-05-0{i + 1}T12:00:00.000Z",
                "room_sid": sid,
                "room_name": "paging",
                "room_type": "group",
            }
        )
    srv.post_events(events)
    original.reverse()  # newest first
    client = client_for(srv)
    page = client.insights.v1.rooms.page(page_size=2)
    seen = [r.room_sid for r in page]
    assert seen == original[:2]
    # A newer room and one in the middle of the remaining range arrive between page requests.
    srv.post_events(
        [
            {
                "event": "room-created",
                "timestamp": "2025-06-01T12:00:00.000Z",
                "room_sid": "RM" + "f1" + "0" * 30,
                "room_name": "paging",
                "room_type": "group",
            },
            {
                "event": "room-created",
                "timestamp": "2025-05-02T18:00:00.000Z",
                "room_sid": "RM" + "f2" + "0" * 30,
                "room_name": "paging",
                "room_type": "group",
            },
        ]
    )
    while page.next_page_url is not None:
        page = page.next_page()
        seen.extend(r.room_sid for r in page)
    assert len(seen) == len(set(seen)), f"a room was repeated: {seen}"
    assert [s for s in seen if s in original] == original, f"a room was skipped: {seen}"


# -- fetching one room -----------------------------------------------------------


def test_fetch_room_typed_fields(client, seeded):
    srv = seeded.server
    r1 = seeded.rooms["R1"]
    room = client.insights.v1.rooms(r1).fetch()
    assert room.room_sid == r1
    assert room.account_sid == srv.account_sid
    assert room.room_name == "standup"
    assert room.room_type == "group"
    assert room.room_status == "completed"
    assert isinstance(room.create_time, dt.datetime)
    assert room.create_time == t("2025-03-01T10:00:00Z")
    assert isinstance(room.end_time, dt.datetime)
    assert room.end_time == t("2025-03-01T10:10:00Z")
    assert room.duration_sec == 600 and isinstance(room.duration_sec, int)
    assert room.unique_participants == 2
    assert room.unique_participant_identities == 2
    assert room.concurrent_participants == 2
    assert room.total_participant_duration_sec == 360 + 510
    assert room.total_recording_duration_sec == 30
    assert room.codecs == ["VP8", "opus"]
    assert room.recording_enabled is True
    assert room.end_reason == "room_ended_via_api"
    assert room.media_region == "us1"
    assert room.created_method == "sdk"
    assert room.max_participants == 50
    assert isinstance(room.max_participants, int)
    assert room.processing_state == "complete"
    assert room.edge_location is None
    assert room.status_callback is None
    assert room.url == f"{srv.url}/v1/Video/Rooms/{r1}"
    assert room.links == {"participants": f"{srv.url}/v1/Video/Rooms/{r1}/Participants"}


def test_fetch_room_derived_duration_and_spellings(client, seeded):
    r2 = client.insights.v1.rooms(seeded.rooms["R2"]).fetch()
    assert r2.room_type == "go"
    assert r2.media_region == "us2"
    assert r2.created_method == "ad_hoc"
    assert r2.codecs == ["H264"]
    assert r2.duration_sec == 310  # no RoomDuration sent: end_time - create_time
    assert r2.total_participant_duration_sec == 300
    assert r2.end_reason is None

    r4 = client.insights.v1.rooms(seeded.rooms["R4"]).fetch()
    assert r4.room_type == "group_small"  # sent as group-small
    assert r4.duration_sec == 1800
    assert r4.unique_participants == 0
    assert r4.concurrent_participants == 0
    assert r4.codecs in ([], None)

    r5 = client.insights.v1.rooms(seeded.rooms["R5"]).fetch()
    assert r5.codecs == ["opus"]  # sent as OPUS

    r7 = client.insights.v1.rooms(seeded.rooms["R7"]).fetch()
    assert r7.create_time == t("2025-03-01T10:00:00Z")  # 10:00:00.900 truncated
    assert r7.end_time == t("2025-03-01T10:01:00Z")
    assert r7.duration_sec == 60


def test_fetch_room_in_progress(client, seeded):
    live = client.insights.v1.rooms(seeded.rooms["LIVE"]).fetch()
    assert live.room_status == "in_progress"
    assert live.create_time == seeded.live_create_time
    assert live.end_time is None
    assert live.duration_sec is None
    assert live.processing_state == "in_progress"
    assert live.unique_participants == 1
    assert live.concurrent_participants == 1
    assert live.codecs == ["H264"]
    assert live.media_region == "de1"


def test_fetch_room_closed_by_room_timeout(client, seeded):
    """R3 never got room-ended and has been silent for far more than 24 h."""
    r3 = client.insights.v1.rooms(seeded.rooms["R3"]).fetch()
    assert r3.room_type == "peer_to_peer"  # sent as peer-to-peer
    assert r3.codecs == ["VP9"]
    assert r3.processing_state == "timeout"
    assert r3.end_time == t("2025-03-03T10:00:20Z")  # closed at its last event


def test_every_summary_field_present_and_timestamps_whole_seconds(seeded):
    import yaml
    from pathlib import Path

    spec = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "openapi" / "insights_video_v1.yaml").read_text()
    )
    room_fields = set(spec["components"]["schemas"]["insights.v1.video_room_summary"]["properties"])
    part_fields = set(
        spec["components"]["schemas"]["insights.v1.video_room_summary.video_participant_summary"]["properties"]
    )
    srv = seeded.server
    rooms = srv.get("/v1/Video/Rooms", params={"PageSize": 100}).json()["rooms"]
    assert len(rooms) == len(seeded.order)
    for room in rooms:
        assert set(room) >= room_fields, f"{room['room_sid']} lacks {room_fields - set(room)}"
        for k in ("create_time", "end_time"):
            assert room[k] is None or TS_RE.match(room[k]), (room["room_sid"], k, room[k])
        parts = srv.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants").json()["participants"]
        for p in parts:
            assert set(p) >= part_fields, f"{p['participant_sid']} lacks {part_fields - set(p)}"
            for k in ("join_time", "leave_time"):
                assert p[k] is None or TS_RE.match(p[k]), (p["participant_sid"], k, p[k])


# -- participants ------------------------------------------------------------------


def test_list_participants(client, seeded):
    srv = seeded.server
    r1 = seeded.rooms["R1"]
    parts = client.insights.v1.rooms(r1).participants.list()
    assert [p.participant_sid for p in parts] == [
        seeded.participants["R1_alice"],
        seeded.participants["R1_bob"],
    ]  # join_time ascending
    alice, bob = parts
    assert alice.participant_identity == "alice"
    assert alice.room_sid == r1
    assert alice.account_sid == srv.account_sid
    assert alice.join_time == t("2025-03-01T10:01:00Z")
    assert alice.leave_time == t("2025-03-01T10:09:30Z")
    assert alice.duration_sec == 510  # no ParticipantDuration sent: leave - join
    assert alice.status == "completed"
    assert alice.codecs == ["VP8"]
    assert alice.url == f"{srv.url}/v1/Video/Rooms/{r1}/Participants/{alice.participant_sid}"
    assert bob.duration_sec == 360
    assert bob.codecs == ["opus"]


def test_list_participants_paged_and_empty(client, seeded):
    r1 = seeded.rooms["R1"]
    got = client.insights.v1.rooms(r1).participants.list(page_size=1)
    assert [p.participant_identity for p in got] == ["alice", "bob"]
    got = client.insights.v1.rooms(r1).participants.list(limit=1)
    assert [p.participant_identity for p in got] == ["alice"]
    assert client.insights.v1.rooms(seeded.rooms["R4"]).participants.list() == []
    page = client.insights.v1.rooms(r1).participants.page(page_size=1)
    assert page.next_page_url.startswith(f"{seeded.server.url}/v1/Video/Rooms/{r1}/Participants?")


def test_list_participants_from_fetched_room(client, seeded):
    room = client.insights.v1.rooms(seeded.rooms["R2"]).fetch()
    parts = room.participants.list()
    assert [p.participant_identity for p in parts] == ["erin"]


def test_fetch_participant(client, seeded):
    srv = seeded.server
    r1 = seeded.rooms["R1"]
    pa = seeded.participants["R1_bob"]
    bob = client.insights.v1.rooms(r1).participants(pa).fetch()
    assert bob.participant_sid == pa
    assert bob.participant_identity == "bob"
    assert bob.room_sid == r1
    assert isinstance(bob.join_time, dt.datetime) and bob.join_time == t("2025-03-01T10:02:00Z")
    assert isinstance(bob.leave_time, dt.datetime) and bob.leave_time == t("2025-03-01T10:08:00Z")
    assert bob.duration_sec == 360
    assert bob.status == "completed"
    assert bob.codecs == ["opus"]
    assert bob.url == f"{srv.url}/v1/Video/Rooms/{r1}/Participants/{pa}"


def test_fetch_participant_still_connected(client, seeded):
    dave = (
        client.insights.v1.rooms(seeded.rooms["LIVE"])
        .participants(seeded.participants["LIVE_dave"])
        .fetch()
    )
    assert dave.status == "in_progress"
    assert dave.leave_time is None
    assert dave.duration_sec is None
    assert dave.join_time == seeded.live_create_time + dt.timedelta(seconds=60)
    assert dave.codecs == ["H264"]


# -- errors --------------------------------------------------------------------------


def assert_rest_error(excinfo, status: int, code: int):
    """fetch(): twilio-python raises TwilioRestException(status, code from the JSON body)."""
    e = excinfo.value
    assert isinstance(e, TwilioRestException)
    assert e.status == status, e
    assert e.code == code, e


def assert_page_error(excinfo, status: int, code: int):
    """list()/page(): twilio-python 9.x raises a plain TwilioException("Unable to fetch page",
    response) for any non-200 page (twilio.base.page.Page.process_response)."""
    e = excinfo.value
    assert isinstance(e, TwilioException)
    assert e.args[0] == "Unable to fetch page"
    response = e.args[1]
    assert response.status_code == status, response.text
    body = json.loads(response.text)
    assert body["code"] == code and body["status"] == status, body


def test_wrong_token_is_401(seeded):
    bad = client_for(seeded.server, password="0" * 32)
    with pytest.raises(TwilioException) as ei:
        bad.insights.v1.rooms.list()
    assert_page_error(ei, 401, 20003)
    with pytest.raises(TwilioRestException) as ei:
        bad.insights.v1.rooms(seeded.rooms["R1"]).fetch()
    assert_rest_error(ei, 401, 20003)


def test_unknown_account_is_401(seeded):
    bad = client_for(seeded.server, username=new_sid("AC"), password=seeded.server.auth_token)
    with pytest.raises(TwilioException) as ei:
        bad.insights.v1.rooms.list()
    assert_page_error(ei, 401, 20003)


def test_401_on_the_wire(seeded):
    r = seeded.server.get("/v1/Video/Rooms", auth=(seeded.server.account_sid, "nope"))
    assert r.status_code == 401
    assert r.headers.get("WWW-Authenticate", "").startswith("Basic")
    body = r.json()
    assert body["code"] == 20003 and body["status"] == 401
    assert set(body) >= {"code", "message", "more_info", "status"}


def test_unknown_room_is_404(client):
    missing = "RM" + "0" * 32
    with pytest.raises(TwilioRestException) as ei:
        client.insights.v1.rooms(missing).fetch()
    assert_rest_error(ei, 404, 20404)
    assert "not found" in ei.value.msg


def test_unknown_room_participants_is_404(client):
    missing = "RM" + "0" * 32
    with pytest.raises(TwilioException) as ei:
        client.insights.v1.rooms(missing).participants.list()
    assert_page_error(ei, 404, 20404)


def test_unknown_participant_is_404(client, seeded):
    with pytest.raises(TwilioRestException) as ei:
        client.insights.v1.rooms(seeded.rooms["R1"]).participants("PA" + "0" * 32).fetch()
    assert_rest_error(ei, 404, 20404)
    # A real participant, but of another room.
    with pytest.raises(TwilioRestException) as ei:
        client.insights.v1.rooms(seeded.rooms["R2"]).participants(seeded.participants["R1_alice"]).fetch()
    assert_rest_error(ei, 404, 20404)


def test_404_on_the_wire(seeded):
    missing = "RM" + "0" * 32
    r = seeded.server.get(f"/v1/Video/Rooms/{missing}")
    assert r.status_code == 404
    body = r.json()
    assert body == {
        "code": 20404,
        "message": body["message"],
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    assert missing in body["message"]


# -- API keys ----------------------------------------------------------------------


def test_api_key_client(seeded):
    srv = seeded.server
    key = srv.create_api_key()
    assert re.fullmatch(r"SK[0-9a-fA-F]{32}", key.sid), key.sid
    kc = client_for(srv, username=key.sid, password=key.secret, account_sid=srv.account_sid)
    assert kc.account_sid == srv.account_sid
    assert sids(kc.insights.v1.rooms.list(page_size=3)) == seeded.sids(*seeded.order)
    room = kc.insights.v1.rooms(seeded.rooms["R1"]).fetch()
    assert room.account_sid == srv.account_sid
    parts = kc.insights.v1.rooms(seeded.rooms["R1"]).participants.list()
    assert len(parts) == 2

    wrong_secret = key.secret[:-1] + ("0" if key.secret[-1] != "0" else "1")
    bad = client_for(srv, username=key.sid, password=wrong_secret, account_sid=srv.account_sid)
    with pytest.raises(TwilioException) as ei:
        bad.insights.v1.rooms.list()
    assert_page_error(ei, 401, 20003)
    with pytest.raises(TwilioRestException) as ei:
        bad.insights.v1.rooms(seeded.rooms["R1"]).fetch()
    assert_rest_error(ei, 401, 20003)


def test_empty_server_lists_nothing(make_server, seeded):
    """A fresh server (another account, empty database) lists no room and knows none of R1."""
    other = make_server()
    oc = client_for(other)
    assert oc.insights.v1.rooms.list() == []
    with pytest.raises(TwilioRestException) as ei:
        oc.insights.v1.rooms(seeded.rooms["R1"]).fetch()
    assert_rest_error(ei, 404, 20404)


# -- the default 24 h window ----------------------------------------------------------


def test_default_window_lists_only_the_last_24h(make_server):
    srv = make_server(extra_env={"ROOMLOG_DEFAULT_WINDOW": None})  # server default: 24 h
    now = dt.datetime.now(UTC).replace(microsecond=0)
    recent, old, ancient = ("RM" + c * 32 for c in "abc")

    def created(sid, when):
        return {
            "event": "room-created",
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "room_sid": sid,
            "room_name": "window",
            "room_type": "group",
        }

    srv.post_events(
        [
            created(recent, now - dt.timedelta(hours=1)),
            created(old, now - dt.timedelta(hours=48)),
            created(ancient, dt.datetime(2025, 1, 1, tzinfo=UTC)),
        ]
    )
    c = client_for(srv)
    assert sids(c.insights.v1.rooms.list()) == [recent]
    assert sids(c.insights.v1.rooms.list(page_size=1)) == [recent]
    assert sids(c.insights.v1.rooms.list(created_after=now - dt.timedelta(hours=72))) == [recent, old]
    assert sids(c.insights.v1.rooms.list(created_before=now + dt.timedelta(minutes=5))) == [
        recent,
        old,
        ancient,
    ]
    # Fetching one room is not subject to the window.
    assert c.insights.v1.rooms(ancient).fetch().room_sid == ancient
