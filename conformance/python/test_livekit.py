"""LiveKit webhooks (`POST /v1/Video/LiveKit/Webhook`) built and signed with LiveKit's own SDK.

Every body in conformance/livekit/session.json is parsed into livekit-protocol's `WebhookEvent`
*without* ignore_unknown_fields (so the fixture uses only real fields), re-serialised with
`MessageToJson` (what is sent), signed with livekit-api's `AccessToken(...).with_sha256(...)` and
checked with livekit-api's `WebhookReceiver` before it is posted. The rooms are then read back with
twilio-python, unmodified, and compared to conformance/livekit/expected.json.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import random
import re
import time
from pathlib import Path

import jwt as pyjwt
import pytest
import requests
from google.protobuf.json_format import MessageToJson, Parse
from livekit.api import AccessToken, TokenVerifier, WebhookReceiver
from livekit.protocol.webhook import WebhookEvent
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from roomlog_harness import RoomlogServer

LIVEKIT_DIR = Path(__file__).resolve().parents[1] / "livekit"
SESSION: list = json.loads((LIVEKIT_DIR / "session.json").read_text())
EXPECTED: dict = json.loads((LIVEKIT_DIR / "expected.json").read_text())

WEBHOOK = "/v1/Video/LiveKit/Webhook"
# LiveKit API keys are "API" + 12 characters, secrets 43; any strings work.
KEY = "APIc7Vb3kQ9wXhT"
SECRET = "rN8vQ2xL5kW9pZ3mT7cY4hB6dF1gJ0sA2eU5iO8wR3q"
BASE57 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
EVENT_ID_RE = re.compile(rf"^EV_[{BASE57}]{{12}}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def hex32(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def body_hash(body: str) -> str:
    """The `sha256` claim: standard base64 (padded) of SHA-256 of the raw body bytes."""
    return base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()


def parse_strict(body: dict) -> WebhookEvent:
    """A fixture body as livekit-protocol's WebhookEvent; an unknown field raises ParseError."""
    return Parse(json.dumps(body), WebhookEvent())


def wire(body: dict) -> str:
    """What is sent: the event re-serialised by protobuf (camelCase, int64 strings, enums by name)."""
    return MessageToJson(parse_strict(body))


def sign(body: str, key: str = KEY, secret: str = SECRET, ttl: dt.timedelta = dt.timedelta(minutes=5)) -> str:
    # LiveKit's server signs each webhook with a 5-minute token; the same here.
    return AccessToken(key, secret).with_sha256(body_hash(body)).with_ttl(ttl).to_jwt()


def livekit_accepts(body: str, token: str, key: str = KEY, secret: str = SECRET) -> WebhookEvent:
    return WebhookReceiver(TokenVerifier(key, secret)).receive(body, token)


def post(server: RoomlogServer, body: str, token: str | None, *, content_type="application/webhook+json",
         prefix: str = "") -> requests.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = prefix + token
    return requests.post(server.url + WEBHOOK, data=body.encode("utf-8"), headers=headers, timeout=30)


NEW = {"accepted": 1, "duplicates": 0}
DUPLICATE = {"accepted": 0, "duplicates": 1}
# An event that belongs to no room (a web egress has no roomId) is acknowledged with 200, so that
# LiveKit does not retry it, and named as ignored: there is no room to keep it under.
IGNORED = {"accepted": 0, "duplicates": 0, "ignored": 1}


def belongs_to_no_room(event: dict) -> bool:
    return event["event"].startswith("egress_") and not event["egressInfo"].get("roomId")


def deliver(server: RoomlogServer, event: dict, *, compact: bool = False) -> dict:
    """Sign one fixture event as LiveKit would, check LiveKit's receiver takes it, POST it; the answer."""
    body = json.dumps(json.loads(wire(event)), separators=(",", ":")) if compact else wire(event)
    token = sign(body)
    got = livekit_accepts(body, token)
    assert got == parse_strict(event)
    r = post(server, body, token)
    assert r.status_code == 200, f"{event['event']} {event['id']}: {r.status_code} {r.text}\n{server.log_tail()}"
    answer = r.json()
    if belongs_to_no_room(event) and answer == IGNORED:
        return answer
    assert answer.get("accepted", 0) + answer.get("duplicates", 0) == 1, (event["id"], answer)
    return answer


# The key the server accepts (for the harness account), and the settings expected.json assumes.
LIVEKIT_ENV = {"ROOMLOG_LIVEKIT_API_KEY": KEY, "ROOMLOG_LIVEKIT_API_SECRET": SECRET, **EXPECTED["server_env"]}


def livekit_server(make_server, **env) -> RoomlogServer:
    """A fresh server for one test; env entries override LIVEKIT_ENV (None removes one)."""
    return make_server(extra_env={**LIVEKIT_ENV, **env})


def client_for(server: RoomlogServer, account_sid: str | None = None, auth_token: str | None = None) -> Client:
    client = Client(account_sid or server.account_sid, auth_token or server.auth_token)
    client.insights.base_url = server.url
    return client


# -- reading back with twilio-python -----------------------------------------------------


def plain(value):
    if isinstance(value, dt.datetime):
        assert value.tzinfo is not None and value.microsecond == 0, value
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def view(record, fields) -> dict:
    return {f: plain(getattr(record, f)) for f in fields}


def room_fields(expected_room: dict) -> list:
    return [k for k in expected_room if k != "participants"]


def assert_matches_expected(server: RoomlogServer) -> None:
    client = client_for(server)
    want_order = [r["room_sid"] for r in EXPECTED["rooms"]]
    # Newest first; the web egress (no roomId) made no room of its own.
    assert [r.room_sid for r in client.insights.v1.rooms.list()] == want_order
    for want in EXPECTED["rooms"]:
        sid = want["room_sid"]
        room = client.insights.v1.rooms(sid).fetch()
        assert room.account_sid == server.account_sid
        assert view(room, room_fields(want)) == {k: want[k] for k in room_fields(want)}, sid
        parts = client.insights.v1.rooms(sid).participants.list()
        pfields = list(want["participants"][0])
        assert [view(p, pfields) for p in parts] == want["participants"], sid
        for p in parts:
            assert p.room_sid == sid and p.account_sid == server.account_sid
            assert p.media_region is None and p.edge_location is None
            assert p.publisher_info is None and p.properties is None and p.error_code is None
    # The recorder (kind EGRESS) and the aborted connection are in no list and cannot be fetched.
    room_a = EXPECTED["rooms"][1]["room_sid"]
    for pa in EXPECTED["absent_participants"]:
        with pytest.raises(TwilioRestException) as ei:
            client.insights.v1.rooms(room_a).participants(pa).fetch()
        assert ei.value.status == 404 and ei.value.code == 20404


def wire_state(server: RoomlogServer) -> dict:
    """Every summary as raw JSON, with what differs between servers (port, account) taken out."""

    def scrub(obj):
        text = json.dumps(obj, sort_keys=True).replace(server.url, "{BASE}").replace(server.account_sid, "{AC}")
        return json.loads(text)

    out = {}
    rooms = server.get("/v1/Video/Rooms", params={"PageSize": 100}).json()["rooms"]
    for room in rooms:
        parts = server.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants", params={"PageSize": 100})
        out[room["room_sid"]] = {"room": scrub(room), "participants": scrub(parts.json()["participants"])}
    return out


# -- the fixture itself: real LiveKit protobuf JSON ----------------------------------------


@pytest.mark.parametrize("event", SESSION, ids=[f"{i:02d}-{e['event']}" for i, e in enumerate(SESSION)])
def test_fixture_event_is_livekit_protobuf_json(event):
    msg = parse_strict(event)  # raises on any field WebhookEvent does not have
    # Canonical protobuf JSON, as LiveKit's server sends it: re-serialising changes nothing
    # (int64 as strings, enums by name, zero values absent).
    assert json.loads(MessageToJson(msg)) == event
    assert EVENT_ID_RE.match(event["id"]), event["id"]
    assert isinstance(event["createdAt"], str) and event["createdAt"].isdigit()
    assert dt.datetime.fromtimestamp(int(event["createdAt"]), dt.timezone.utc).year == 2026
    # Signed with livekit-api, accepted by livekit-api's own receiver.
    body = wire(event)
    token = sign(body)
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)
    assert claims["sha256"] == body_hash(body)
    assert claims["exp"] - claims["nbf"] == 300
    assert livekit_accepts(body, token) == msg


def test_fixture_covers_the_session():
    ids = [e["id"] for e in SESSION]
    assert len(ids) == len(set(ids))
    kinds = {e["event"] for e in SESSION}
    assert kinds >= {
        "room_started", "room_finished", "participant_joined", "participant_left",
        "participant_connection_aborted", "track_published", "track_unpublished",
        "egress_started", "egress_updated", "egress_ended",
    }
    # SIDs in expected.json are "RM"/"PA" + hex32(LiveKit sid).
    for lk_sid, sid in EXPECTED["sids"].items():
        assert sid == lk_sid[:2] + hex32(lk_sid), lk_sid
    # An audio track has no `type` key (AUDIO = 0); a standard participant no `kind` key.
    published = [e["track"] for e in SESSION if e["event"] == "track_published"]
    audio = [t for t in published if t["mimeType"].startswith("audio/")]
    assert audio and all("type" not in t for t in audio)
    joined = [e["participant"] for e in SESSION if e["event"] == "participant_joined"]
    assert {p.get("kind") for p in joined} == {None, "EGRESS"}
    # Full room objects (room/participant events) carry the creation time; design-review's in
    # milliseconds too, office-hours' in seconds only (the fallback rule); frank's join time too.
    for e in SESSION:
        if e["event"] in ("room_started", "room_finished", "participant_joined", "participant_left"):
            assert "creationTime" in e["room"], e["id"]
            assert ("creationTimeMs" in e["room"]) == (e["room"]["name"] == "design-review"), e["id"]
    frank = [p for p in joined if p["identity"] == "frank"]
    assert frank and all("joinedAt" in p and "joinedAtMs" not in p for p in frank)
    # roomEndReason is a real WebhookEvent field in livekit-protocol.
    assert "room_end_reason" in WebhookEvent.DESCRIPTOR.fields_by_name


# -- the session in order, then shuffled with repeats --------------------------------------


@pytest.fixture(scope="module")
def ordered():
    """One server that got the session once, in order."""
    srv = RoomlogServer(extra_env=dict(LIVEKIT_ENV))
    try:
        srv.start()
        answers = [deliver(srv, e) for e in SESSION]
        yield srv, answers
    finally:
        srv.cleanup()


def test_in_order_every_event_accepted(ordered):
    _srv, answers = ordered
    for event, answer in zip(SESSION, answers):
        allowed = [NEW, IGNORED] if belongs_to_no_room(event) else [NEW]
        assert answer in allowed, (event["event"], event["id"], answer)


def test_in_order_summaries(ordered):
    srv, _ = ordered
    assert_matches_expected(srv)


def test_in_order_wire_timestamps_whole_seconds(ordered):
    srv, _ = ordered
    for sid, state in wire_state(srv).items():
        for k in ("create_time", "end_time"):
            assert state["room"][k] is None or TS_RE.match(state["room"][k]), (sid, k)
        for p in state["participants"]:
            for k in ("join_time", "leave_time"):
                assert p[k] is None or TS_RE.match(p[k]), (p["participant_sid"], k)


def test_shuffled_twice_same_summaries_and_duplicates(ordered, make_server):
    srv = livekit_server(make_server)
    sends = [(e, copy_no) for e in SESSION for copy_no in (0, 1)]
    random.Random(20260310).shuffle(sends)
    seen = set()
    for event, copy_no in sends:
        # The repeat is compact JSON (as Go's protojson writes it): the same `id`, other bytes.
        answer = deliver(srv, event, compact=copy_no == 1)
        allowed = [DUPLICATE] if event["id"] in seen else [NEW]
        if belongs_to_no_room(event):
            allowed.append(IGNORED)
        assert answer in allowed, (event["event"], event["id"], answer)
        seen.add(event["id"])
    assert seen == {e["id"] for e in SESSION}
    assert_matches_expected(srv)
    ordered_srv, _ = ordered
    assert wire_state(srv) == wire_state(ordered_srv)


def test_open_room_closed_by_the_default_room_timeout(make_server):
    """office-hours never got room_finished and its events are months old: with the default 24 h
    timeout it is closed at its last event."""
    srv = livekit_server(make_server, ROOMLOG_ROOM_TIMEOUT=None)
    want = EXPECTED["room_timeout_default"]
    sid = want["room"]["room_sid"]
    lk_sid = next(k for k, v in EXPECTED["sids"].items() if v == sid)
    for e in SESSION:
        if e.get("room", {}).get("sid") == lk_sid:
            deliver(srv, e)
    client = client_for(srv)
    room = client.insights.v1.rooms(sid).fetch()
    assert view(room, list(want["room"])) == want["room"]
    parts = client.insights.v1.rooms(sid).participants.list()
    assert [view(p, list(want["participants"][0])) for p in parts] == want["participants"]


# -- what is accepted besides the plain form ------------------------------------------------


FIRST = SESSION[0]  # room_started of design-review
FIRST_ROOM = EXPECTED["sids"][FIRST["room"]["sid"]]


def _numbers_for_int64(event: dict) -> str:
    """The same event with its 64-bit fields as JSON numbers (protobuf's parser accepts both)."""
    e = copy.deepcopy(event)
    e["createdAt"] = int(e["createdAt"])
    e["room"]["creationTime"] = int(e["room"]["creationTime"])
    e["room"]["creationTimeMs"] = int(e["room"]["creationTimeMs"])
    parse_strict(e)
    return json.dumps(e)


ACCEPTED_VARIANTS = [
    # (id, body, token maker, post kwargs)
    ("bearer-prefix", lambda: wire(FIRST), lambda b: sign(b), {"prefix": "Bearer "}),
    ("application-json", lambda: wire(FIRST), lambda b: sign(b), {"content_type": "application/json"}),
    ("expired-within-leeway", lambda: wire(FIRST), lambda b: sign(b, ttl=dt.timedelta(seconds=-20)), {}),
    ("int64-as-numbers", lambda: _numbers_for_int64(FIRST), lambda b: sign(b), {}),
]


@pytest.mark.parametrize("make_body,make_token,kwargs", [v[1:] for v in ACCEPTED_VARIANTS],
                         ids=[v[0] for v in ACCEPTED_VARIANTS])
def test_accepted_variants(make_server, make_body, make_token, kwargs):
    srv = livekit_server(make_server)
    body = make_body()
    token = make_token(body)
    livekit_accepts(body, token)  # LiveKit's receiver takes it too
    r = post(srv, body, token, **kwargs)
    assert r.status_code == 200, r.text
    assert r.json() == NEW
    room = client_for(srv).insights.v1.rooms(FIRST_ROOM).fetch()
    assert plain(room.create_time) == "2026-03-10T14:00:00Z"
    assert room.room_status == "in_progress"


# -- refusals: 401 code 20003, nothing stored ---------------------------------------------


OTHER_KEY = "APIunknownKey01"
OTHER_SECRET = "s3cr3t-of-another-key-0000000000000000000"


def _claims(body: str, nbf: int = 0, exp: int = 300, **override) -> dict:
    """Hand-made claims (nbf/exp in seconds from now) for what AccessToken cannot express."""
    now = int(time.time())
    claims = {"iss": KEY, "sub": "", "nbf": now + nbf, "exp": now + exp, "sha256": body_hash(body)}
    claims.update(override)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(claims: dict) -> str:
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


def _tampered() -> tuple[str, str]:
    signed = wire(FIRST)
    token = sign(signed)
    e = copy.deepcopy(FIRST)
    e["room"]["maxParticipants"] = 2000  # still a valid event, but not the signed bytes
    return wire(e), token


def _sign_other_body() -> tuple[str, str]:
    return wire(FIRST), sign(wire(SESSION[1]))


REFUSALS = [
    # (id, () -> (body, token or None))
    ("no-authorization-header", lambda: (wire(FIRST), None)),
    ("not-a-jwt", lambda: (wire(FIRST), "not-a-jwt")),
    ("wrong-secret", lambda: (wire(FIRST), sign(wire(FIRST), secret="x" + SECRET[1:]))),
    ("unregistered-key", lambda: (wire(FIRST), sign(wire(FIRST), key=OTHER_KEY, secret=OTHER_SECRET))),
    # The registered secret, but an `iss` that names no registered key.
    ("unregistered-iss-registered-secret", lambda: (wire(FIRST), sign(wire(FIRST), key=OTHER_KEY))),
    ("tampered-body", _tampered),
    ("hash-of-another-body", _sign_other_body),
    ("no-sha256-claim", lambda: (wire(FIRST), AccessToken(KEY, SECRET).to_jwt())),
    ("expired-beyond-leeway", lambda: (wire(FIRST), sign(wire(FIRST), ttl=dt.timedelta(seconds=-120)))),
    ("not-yet-valid-beyond-leeway", lambda: (wire(FIRST), _hs256(_claims(wire(FIRST), nbf=+600, exp=+900)))),
    ("no-iss", lambda: (wire(FIRST), _hs256(_claims(wire(FIRST), iss=None)))),
    ("alg-none", lambda: (wire(FIRST), pyjwt.encode(_claims(wire(FIRST)), None, algorithm="none"))),
]


@pytest.mark.parametrize("make", [r[1] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusal_is_401_and_stores_nothing(make_server, make):
    srv = livekit_server(make_server)
    body, token = make()
    # LiveKit's own receiver refuses the same request.
    with pytest.raises(Exception):
        livekit_accepts(body, token or "")
    r = post(srv, body, token)
    assert r.status_code == 401, r.text
    err = r.json()
    assert err["code"] == 20003 and err["status"] == 401, err
    assert set(err) >= {"code", "message", "more_info", "status"}
    assert err["more_info"] == "https://www.twilio.com/docs/errors/20003"

    client = client_for(srv)
    assert client.insights.v1.rooms.list() == []
    with pytest.raises(TwilioRestException) as ei:
        client.insights.v1.rooms(FIRST_ROOM).fetch()
    assert ei.value.status == 404
    # Not even the raw event was kept: properly signed, the same event is new, not a duplicate.
    assert deliver(srv, FIRST) == NEW


# -- keys managed with the CLI while the server runs ----------------------------------------


def _poll(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last or time.monotonic() > deadline:
            return last
        time.sleep(0.25)


def test_cli_key_for_another_account_added_and_removed_while_running(make_server):
    srv = livekit_server(make_server)
    other_sid, other_token = srv.create_account()
    key2, secret2 = "APIsecondAcct42", "a-secret-for-the-other-account-0123456789A"
    srv._cli("livekit", "add", "--account", other_sid, "--api-key", key2, "--api-secret", secret2)
    listed = srv._cli("livekit", "list")["_stdout"]
    assert key2 in listed and KEY in listed
    assert secret2 not in listed and SECRET not in listed

    body = wire(FIRST)

    def accepted():
        r = post(srv, body, sign(body, key=key2, secret=secret2))
        return r if r.status_code == 200 else None

    r = _poll(accepted)
    assert r is not None, "a key added with `roomlog livekit add` was not honoured within 15 s"
    assert r.json() == NEW
    # The event went to the key's account, not to the harness account.
    other = client_for(srv, other_sid, other_token)
    assert [x.room_sid for x in other.insights.v1.rooms.list()] == [FIRST_ROOM]
    assert other.insights.v1.rooms(FIRST_ROOM).fetch().account_sid == other_sid
    assert client_for(srv).insights.v1.rooms.list() == []

    srv._cli("livekit", "remove", key2)
    second = wire(SESSION[1])

    def refused():
        r = post(srv, second, sign(second, key=key2, secret=secret2))
        return r if r.status_code == 401 else None

    r = _poll(refused)
    assert r is not None, "a key removed with `roomlog livekit remove` still worked after 15 s"
    assert r.json()["code"] == 20003
