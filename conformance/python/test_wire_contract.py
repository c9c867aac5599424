"""Wire-level rules of docs/behaviour.md that the official clients (and other Twilio clients: Go sends
date offsets and sorts keys, Java sends milliseconds) depend on, checked with plain HTTP."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from twilio.rest import Client

from roomlog_harness import DATASET_PATH, seed

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Authorization, Content-Type, If-None-Match",
    "Access-Control-Expose-Headers": "ETag",
    "Access-Control-Allow-Credentials": "true",
}


def room_sids(resp) -> list:
    assert resp.status_code == 200, (resp.request.url, resp.status_code, resp.text)
    return [r["room_sid"] for r in resp.json()["rooms"]]


def assert_error(resp, status: int, code: int, mentions: str | None = None):
    assert resp.status_code == status, (resp.request.method, resp.request.url, resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"code", "message", "more_info", "status"}, body
    assert body["code"] == code and body["status"] == status, body
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}", body
    if mentions:
        assert mentions in body["message"], body


# -- headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,auth_ok,status",
    [
        ("/v1/Video/Rooms", True, 200),
        ("/v1/Video/Rooms", False, 401),
        ("/v1/Video/Rooms/RM" + "0" * 32, True, 404),
    ],
)
def test_cors_and_request_id_on_every_response(seeded, path, auth_ok, status):
    srv = seeded.server
    r = srv.get(path, auth=None if auth_ok else (srv.account_sid, "wrong"))
    assert r.status_code == status
    for k, v in CORS.items():
        assert r.headers.get(k) == v, (k, r.headers.get(k))
    assert re.fullmatch(r"RQ[0-9a-f]{32}", r.headers.get("Twilio-Request-Id", "")), r.headers


def test_options_is_204_without_auth(seeded):
    r = requests.options(seeded.server.url + "/v1/Video/Rooms", timeout=10)
    assert r.status_code == 204, r.text
    for k, v in CORS.items():
        assert r.headers.get(k) == v, (k, r.headers.get(k))


def test_401_carries_www_authenticate(seeded):
    r = requests.get(seeded.server.url + "/v1/Video/Rooms", timeout=10)  # no credentials at all
    assert_error(r, 401, 20003)
    assert r.headers.get("WWW-Authenticate") == 'Basic realm="roomlog"'


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_write_methods_on_read_resources_are_405(seeded, method):
    srv = seeded.server
    for path in ("/v1/Video/Rooms", f"/v1/Video/Rooms/{seeded.rooms['R1']}"):
        r = requests.request(method, srv.url + path, auth=srv.auth, timeout=10)
        assert_error(r, 405, 20004)


# -- parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,name",
    [
        ({"PageSize": "0"}, "PageSize"),
        ({"PageSize": "-1"}, "PageSize"),
        ({"PageSize": "ten"}, "PageSize"),
        ({"RoomType": "conference"}, "RoomType"),
        ({"Codec": "AV1"}, "Codec"),
        ({"CreatedAfter": "yesterday"}, "CreatedAfter"),
        ({"CreatedBefore": "2025-13-45T99:00:00Z"}, "CreatedBefore"),
        ({"PageToken": "garbage"}, "PageToken"),
        ({"PageToken": "PA"}, "PageToken"),
        ({"PageToken": "PA" + "A" * 40}, "PageToken"),
    ],
)
def test_invalid_parameters_are_400_naming_the_parameter(seeded, params, name):
    assert_error(seeded.server.get("/v1/Video/Rooms", params=params), 400, 20001, mentions=name)


def test_invalid_page_size_on_participants_is_400(seeded):
    r = seeded.server.get(f"/v1/Video/Rooms/{seeded.rooms['R1']}/Participants", params={"PageSize": "0"})
    assert_error(r, 400, 20001, mentions="PageSize")


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"RoomType": "peer-to-peer"}, ["R3"]),
        ({"RoomType": "group-small"}, ["R4"]),
        ({"RoomType": ["go", "group-small"]}, ["R4", "R2"]),
        ({"Codec": "OPUS"}, ["R5", "R1"]),
        ({"Codec": ["VP9", "OPUS"]}, ["R5", "R3", "R1"]),
    ],
)
def test_accepted_spellings(seeded, params, expected):
    assert room_sids(seeded.server.get("/v1/Video/Rooms", params=params)) == seeded.sids(*expected)


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-03T10:00:00Z",
        "2025-03-03T10:00:00.000Z",  # Java: milliseconds
        "2025-03-03T09:59:59.5Z",
        "2025-03-03T12:00:00+02:00",  # Go: offsets
        "2025-03-03T05:00:00-05:00",
        "2025-03-03T12:00:00 02:00",  # an unencoded '+' decoded as a space
        "2025-03-03",  # bare date: midnight UTC (R3 at 10:00 is still after it)
    ],
)
def test_lenient_dates(seeded, value):
    got = room_sids(seeded.server.get("/v1/Video/Rooms", params={"CreatedAfter": value}))
    assert got == seeded.sids("LIVE", "R6", "R5", "R4", "R3")


def test_unknown_parameters_and_content_type_on_get_are_ignored(seeded):
    r = seeded.server.get(
        "/v1/Video/Rooms",
        params={"Foo": "bar", "RoomName": "retro"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert room_sids(r) == seeded.sids("R4", "R3")


def test_parameter_order_does_not_matter(seeded):
    a = seeded.server.get("/v1/Video/Rooms?RoomType=group&Codec=VP8&PageSize=5")
    b = seeded.server.get("/v1/Video/Rooms?PageSize=5&Codec=VP8&RoomType=group")
    assert room_sids(a) == room_sids(b) == seeded.sids("R6", "R1")


# -- paging meta ---------------------------------------------------------------------


def test_page_without_token_is_an_offset(seeded):
    r = seeded.server.get("/v1/Video/Rooms", params={"PageSize": 2, "Page": 1})
    assert room_sids(r) == seeded.sids("R5", "R4")
    assert r.json()["meta"]["page"] == 1


def test_meta_urls_parameter_order_and_date_format(seeded):
    srv = seeded.server
    # Deliberately scrambled order and an offset date.
    r = srv.get(
        "/v1/Video/Rooms?PageSize=1&CreatedBefore=2025-03-06T01:00:00%2B01:00&RoomName=allhands"
        "&CreatedAfter=2025-03-01&Codec=VP8&RoomType=group&Codec=opus&RoomType=go"
    )
    assert room_sids(r) == seeded.sids("R6")
    meta = r.json()["meta"]
    first = urlsplit(meta["first_page_url"])
    assert f"{first.scheme}://{first.netloc}" == srv.url
    assert first.path == "/v1/Video/Rooms"
    pairs = parse_qsl(first.query)
    # The order of values inside one repeated key is not pinned (the server may canonicalize).
    assert sorted(pairs[:2]) == [("RoomType", "go"), ("RoomType", "group")], pairs
    assert sorted(pairs[2:4]) == [("Codec", "VP8"), ("Codec", "opus")], pairs
    assert pairs[4:] == [
        ("RoomName", "allhands"),
        ("CreatedAfter", "2025-03-01T00:00:00Z"),
        ("CreatedBefore", "2025-03-06T00:00:00Z"),
        ("PageSize", "1"),
        ("Page", "0"),
    ]
    assert "CreatedAfter=2025-03-01T00%3A00%3A00Z" in first.query  # URL-encoded
    nxt = parse_qsl(urlsplit(meta["next_page_url"]).query)
    assert [k for k, _ in nxt] == [
        "RoomType", "RoomType", "Codec", "Codec", "RoomName", "CreatedAfter", "CreatedBefore",
        "PageSize", "Page", "PageToken",
    ]
    assert dict(nxt)["Page"] == "1" and dict(nxt)["PageToken"].startswith("PA")

    # Second page: url carries its token, previous_page_url goes back with a PB token.
    r2 = requests.get(meta["next_page_url"], auth=srv.auth, timeout=10)
    assert room_sids(r2) == seeded.sids("R5")
    meta2 = r2.json()["meta"]
    assert meta2["page"] == 1
    assert meta2["url"] == meta["next_page_url"]
    assert meta2["next_page_url"] is None
    prev = dict(parse_qsl(urlsplit(meta2["previous_page_url"]).query))
    assert prev["Page"] == "0" and prev["PageToken"].startswith("PB")
    back = requests.get(meta2["previous_page_url"], auth=srv.auth, timeout=10)
    assert room_sids(back) == seeded.sids("R6")


def real_token(srv, path="/v1/Video/Rooms", **params) -> str:
    r = srv.get(path, params={"PageSize": 1, **params})
    assert r.status_code == 200, r.text
    return dict(parse_qsl(urlsplit(r.json()["meta"]["next_page_url"]).query))["PageToken"]


def test_tampered_foreign_and_misbound_tokens_are_400(seeded, make_server):
    srv = seeded.server
    tok = real_token(srv)
    assert room_sids(srv.get("/v1/Video/Rooms", params={"PageSize": 1, "Page": 1, "PageToken": tok})) == seeded.sids("R6")
    flipped = tok[:-3] + ("A" if tok[-3] != "A" else "B") + tok[-2:]
    assert_error(srv.get("/v1/Video/Rooms", params={"PageSize": 1, "PageToken": flipped}), 400, 20001, "PageToken")
    # Bound to the filter set.
    r = srv.get("/v1/Video/Rooms", params={"PageSize": 1, "PageToken": tok, "RoomType": "go"})
    assert_error(r, 400, 20001, "PageToken")
    # A participants token is no rooms token.
    ptok = real_token(srv, f"/v1/Video/Rooms/{seeded.rooms['R1']}/Participants")
    assert_error(srv.get("/v1/Video/Rooms", params={"PageSize": 1, "PageToken": ptok}), 400, 20001, "PageToken")
    # Another server (another account) does not take it.
    other = make_server()
    assert_error(other.get("/v1/Video/Rooms", params={"PageSize": 1, "PageToken": tok}), 400, 20001, "PageToken")


# -- public base URL -------------------------------------------------------------------


def test_forwarded_headers_are_ignored_unless_trusted(seeded):
    srv = seeded.server
    r = srv.get(
        f"/v1/Video/Rooms/{seeded.rooms['R1']}",
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    )
    assert r.status_code == 200
    assert r.json()["url"] == f"{srv.url}/v1/Video/Rooms/{seeded.rooms['R1']}"


def test_configured_public_url_is_used_everywhere(make_server):
    srv = make_server(public_host="localhost")
    base = f"http://localhost:{srv.port}"
    data = seed(srv)
    r1 = data.rooms["R1"]
    room = srv.get(f"/v1/Video/Rooms/{r1}").json()
    assert room["url"] == f"{base}/v1/Video/Rooms/{r1}"
    assert room["links"]["participants"] == f"{base}/v1/Video/Rooms/{r1}/Participants"
    meta = srv.get("/v1/Video/Rooms", params={"PageSize": 1}).json()["meta"]
    for k in ("url", "first_page_url", "next_page_url"):
        assert meta[k].startswith(base + "/v1/Video/Rooms?"), (k, meta[k])
    # The client follows next_page_url verbatim: paging goes on at the public URL.
    client = Client(srv.account_sid, srv.auth_token)
    client.insights.base_url = srv.url
    assert [x.room_sid for x in client.insights.v1.rooms.list(page_size=3)] == data.sids(*data.order)


# -- events in ---------------------------------------------------------------------------


def test_events_need_auth(seeded):
    r = requests.post(seeded.server.url + "/v1/Video/Events", json={"events": []}, timeout=10)
    assert_error(r, 401, 20003)


def test_replayed_events_are_duplicates_and_change_nothing(seeded):
    srv = seeded.server
    before = srv.get(f"/v1/Video/Rooms/{seeded.rooms['R1']}").json()
    events = json.loads(DATASET_PATH.read_text())["events"]
    body = srv.post_events(events)
    assert body == {"accepted": 0, "duplicates": len(events)}
    assert srv.get(f"/v1/Video/Rooms/{seeded.rooms['R1']}").json() == before


def test_single_event_object_body(make_server):
    srv = make_server()
    sid = "RM" + "5" * 32
    r = requests.post(
        srv.url + "/v1/Video/Events",
        json={"event": "room-created", "timestamp": "2025-07-01T00:00:00.000Z", "room_sid": sid,
              "room_name": "single", "room_type": "go"},
        auth=srv.auth,
        timeout=10,
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 1, "duplicates": 0}
    assert srv.get(f"/v1/Video/Rooms/{sid}").json()["room_name"] == "single"


def test_bad_batch_is_all_or_nothing_and_names_the_event(make_server):
    srv = make_server()
    good = {"event": "room-created", "timestamp": "2025-07-01T00:00:00.000Z", "room_sid": "RM" + "6" * 32,
            "room_name": "x", "room_type": "group"}
    bad = {"event": "room-created", "timestamp": "not a time", "room_sid": "RM" + "7" * 32}
    r = requests.post(srv.url + "/v1/Video/Events", json={"events": [good, bad]}, auth=srv.auth, timeout=10)
    assert_error(r, 400, 20001, mentions="events[1]")
    assert srv.get(f"/v1/Video/Rooms/{good['room_sid']}").status_code == 404


def strip_base(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("url", "links", "account_sid")}


def test_summaries_do_not_depend_on_event_order(seeded, make_server):
    """Any permutation, with duplicates, in any batching, gives the same summaries (§4.3)."""
    srv = make_server()
    events = json.loads(DATASET_PATH.read_text())["events"]
    shuffled = list(reversed(events))
    shuffled = shuffled[1::2] + shuffled[0::2]
    for i in range(0, len(shuffled), 5):
        srv.post_events(shuffled[i:i + 5])
    srv.post_events(events[:7])  # duplicates
    for label in ("R1", "R2", "R3", "R4", "R5", "R6", "R7"):
        sid = seeded.rooms[label]
        want = seeded.server.get(f"/v1/Video/Rooms/{sid}").json()
        got = srv.get(f"/v1/Video/Rooms/{sid}").json()
        assert strip_base(got) == strip_base(want), label
        wp = seeded.server.get(f"/v1/Video/Rooms/{sid}/Participants").json()["participants"]
        gp = srv.get(f"/v1/Video/Rooms/{sid}/Participants").json()["participants"]
        assert [strip_base(p) for p in gp] == [strip_base(p) for p in wp], label


# -- accounts ----------------------------------------------------------------------------


def test_accounts_see_only_their_own_rooms(seeded):
    srv = seeded.server
    other = srv.create_account()
    r = srv.get("/v1/Video/Rooms", auth=other)
    assert room_sids(r) == []
    assert_error(srv.get(f"/v1/Video/Rooms/{seeded.rooms['R1']}", auth=other), 404, 20404)
    assert_error(
        srv.get(f"/v1/Video/Rooms/{seeded.rooms['R1']}/Participants/{seeded.participants['R1_alice']}", auth=other),
        404,
        20404,
    )
    # Its own events are its own.
    sid = "RM" + "9" * 32
    srv.post_events(
        [{"event": "room-created", "timestamp": "2025-08-01T00:00:00.000Z", "room_sid": sid,
          "room_name": "theirs", "room_type": "go"}],
        auth=other,
    )
    assert room_sids(srv.get("/v1/Video/Rooms", auth=other)) == [sid]
    assert sid not in room_sids(srv.get("/v1/Video/Rooms", params={"PageSize": 100}))
