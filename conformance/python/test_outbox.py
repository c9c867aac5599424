"""Events out (docs/behaviour.md §6): what roomlog sends, checked by the receivers' official libraries.

Every receiver here is a real HTTP server on 127.0.0.1 that records what the running `roomlog serve`
delivers to it. Forwarded Twilio status callbacks (§6.1) are checked the way an application checks
Twilio itself: `twilio.request_validator.RequestValidator(auth_token).validate(target_url, params,
signature)`. Room webhooks (§6.2) are checked with the Standard Webhooks library:
`standardwebhooks.Webhook(secret).verify(body, headers)`. Each test makes its own account, so the
outbox configuration of one test never reaches another.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.insights.v1.room import RoomInstance
from twilio.rest.insights.v1.room.participant import ParticipantInstance

from roomlog_harness import RoomlogServer, new_sid

WAIT = 15.0  # seconds: the longest any delivery is waited for
GRACE = 1.5  # seconds: how long "never arrives" is watched after a later message did arrive


# -- a receiver ------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str  # with the query
    headers: dict  # lower-case names
    header_list: list  # (name, value) as sent
    body: bytes

    @property
    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(self.body))


class Receiver:
    """Records every request; answers `status` (changeable while it runs) with an empty body."""

    def __init__(self, status: int = 204):
        self.status = status
        self._requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver._requests.append(
                        Received(
                            method=self.command,
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            header_list=list(self.headers.items()),
                            body=body,
                        )
                    )
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._requests if path is None or urlsplit(r.path).path == path]

    def wait_for(self, predicate, what: str, timeout: float = WAIT) -> list[Received]:
        """Polls until predicate(requests) is truthy; returns the requests then."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                summary = [(r.method, r.path, r.body[:120]) for r in got]
                raise AssertionError(f"receiver :{self.port}: no {what} within {timeout}s; got {summary}")
            time.sleep(0.05)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receivers():
    made = []

    def _make(status: int = 204) -> Receiver:
        r = Receiver(status)
        made.append(r)
        return r

    try:
        yield _make
    finally:
        for r in made:
            r.close()


@pytest.fixture(scope="module")
def server():
    # A settle window of 0: a room is `complete` as soon as its room-ended is in (room.completed).
    srv = RoomlogServer(extra_env={"ROOMLOG_SETTLE_WINDOW": "0"})
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


# -- roomlog's side -------------------------------------------------------------------------


@dataclass
class Account:
    sid: str
    token: str


def new_account(server: RoomlogServer) -> Account:
    return Account(*server.create_account())


def cli(server: RoomlogServer, *args: str) -> dict:
    return server._cli(*args)


def forward_to(server: RoomlogServer, account: Account, *urls: str) -> None:
    args = []
    for url in urls:
        args += ["--forward-to", url]
    cli(server, "accounts", "update", account.sid, *args)


def add_webhook(server: RoomlogServer, account: Account, url: str) -> tuple[str, str]:
    out = cli(server, "webhooks", "add", "--account", account.sid, "--url", url)
    endpoint_id, secret = out.get("id"), out.get("secret")
    assert endpoint_id and secret, f"cannot parse `roomlog webhooks add`:\n{out['_stdout']}"
    return endpoint_id, secret


@dataclass
class FailedRow:
    id: str
    kind: str
    room: str
    attempts: int
    target: str
    last_error: str


def outbox_failed(server: RoomlogServer) -> list[FailedRow]:
    """`roomlog outbox failed`: a header, then ID KIND ROOM ATTEMPTS TARGET LAST-ERROR rows."""
    lines = cli(server, "outbox", "failed")["_stdout"].splitlines()
    assert lines and lines[0].split()[:5] == ["ID", "KIND", "ROOM", "ATTEMPTS", "TARGET"], lines
    rows = []
    for line in lines[1:]:
        if line.strip():
            id_, kind, room, attempts, target, error = line.split(None, 5)
            rows.append(FailedRow(id_, kind, room, int(attempts), target, error))
    return rows


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def room_callbacks(account: Account, room_sid: str | None = None) -> list[dict]:
    """A room's status callbacks, in the parameters Twilio documents, timed just before now: created,
    two participants connect and disconnect, ended. Values that need form encoding on purpose, and
    one parameter roomlog does not know (forwards carry it all the same)."""
    room_sid = room_sid or new_sid("RM")
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=90)
    base = {
        "AccountSid": account.sid,
        "RoomSid": room_sid,
        "RoomName": "Design review & retro = café + 100%",
        "RoomType": "group",
        "RoomStatus": "in-progress",
    }
    ana = {"ParticipantSid": new_sid("PA"), "ParticipantIdentity": "ana+admin@example.com"}
    bo = {"ParticipantSid": new_sid("PA"), "ParticipantIdentity": "bo ø"}
    steps = [
        (0, "room-created", {"FutureParameter": "ünknown to roomlog; kept &=+"}),
        (5, "participant-connected", {**ana, "ParticipantStatus": "connected"}),
        (9, "participant-connected", {**bo, "ParticipantStatus": "connected"}),
        (40, "participant-disconnected", {**bo, "ParticipantStatus": "disconnected", "ParticipantDuration": "31"}),
        (60, "participant-disconnected", {**ana, "ParticipantStatus": "disconnected", "ParticipantDuration": "55"}),
        (61, "room-ended", {"RoomStatus": "completed", "RoomDuration": "61"}),
    ]
    out = []
    for seq, (offset, event, extra) in enumerate(steps):
        out.append(
            {
                **base,
                "StatusCallbackEvent": event,
                "Timestamp": iso(start + timedelta(seconds=offset, milliseconds=250)),
                "SequenceNumber": str(seq),
                **extra,
            }
        )
    return out


def callback_url(server: RoomlogServer) -> str:
    return server.url + "/v1/Video/Callbacks"


def post_callback(server: RoomlogServer, account: Account, params: dict, *, signature: str | None = "sign",
                  token: str | None = None) -> requests.Response:
    """POSTs one callback as Twilio does; signed with the account's token unless told otherwise."""
    url = callback_url(server)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(account.token).compute_signature(url, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    if token is not None:
        headers["I-Twilio-Idempotency-Token"] = token
    return requests.post(url, data=urlencode(params), headers=headers, timeout=10)


def send_room(server: RoomlogServer, account: Account, callbacks: list[dict]) -> list[str]:
    """Posts the callbacks in order; returns the idempotency token each carried."""
    tokens = []
    for params in callbacks:
        token = f"{account.sid}-{uuid.uuid4()}"
        r = post_callback(server, account, params, token=token)
        assert r.status_code == 204, (params["StatusCallbackEvent"], r.status_code, r.text)
        tokens.append(token)
    return tokens


def insights(server: RoomlogServer, account: Account) -> Client:
    client = Client(account.sid, account.token)
    client.insights.base_url = server.url
    return client


def served_room(server: RoomlogServer, account: Account, room_sid: str) -> dict:
    r = server.get(f"/v1/Video/Rooms/{room_sid}", auth=(account.sid, account.token))
    assert r.status_code == 200, r.text
    return r.json()


def served_participants(server: RoomlogServer, account: Account, room_sid: str) -> list:
    r = server.get(f"/v1/Video/Rooms/{room_sid}/Participants", auth=(account.sid, account.token),
                   params={"PageSize": 100})
    assert r.status_code == 200, r.text
    return r.json()["participants"]


def public_fields(instance) -> dict:
    return {k: v for k, v in vars(instance).items() if not k.startswith("_")}


# -- checks of one delivery -----------------------------------------------------------------


def assert_forward(received: Received, target: str, sent: dict, account: Account, token: str | None) -> None:
    """One forwarded callback, as an application behind roomlog sees it."""
    assert received.method == "POST"
    assert received.headers.get("content-type", "").split(";")[0].strip() == "application/x-www-form-urlencoded"
    pairs = received.form
    params = dict(pairs)
    assert len(params) == len(pairs), f"a parameter repeated: {pairs}"
    assert params == sent, "the same parameters with the same values, none added or dropped"
    signature = received.headers.get("x-twilio-signature")
    assert signature, "X-Twilio-Signature"
    assert RequestValidator(account.token).validate(target, params, signature), (
        f"twilio's RequestValidator refuses the forward to {target}"
    )
    assert received.headers.get("i-twilio-idempotency-token") == token
    # The check is real: it refuses what was not signed.
    assert not RequestValidator(account.token).validate(target, {**params, "RoomName": "changed"}, signature)
    assert not RequestValidator(secrets.token_hex(16)).validate(target, params, signature)


def by_token(got: list[Received], token: str) -> list[Received]:
    return [r for r in got if r.headers.get("i-twilio-idempotency-token") == token]


def verify_webhook(received: Received, secret: str) -> dict:
    assert received.method == "POST"
    assert received.headers.get("content-type", "").split(";")[0].strip() == "application/json"
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert received.headers.get(name), f"{name} header"
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload == json.loads(received.body)
    return payload


def webhooks_of(got: list[Received], path: str, kind: str, room_sid: str) -> list[Received]:
    out = []
    for r in got:
        if urlsplit(r.path).path != path:
            continue
        body = json.loads(r.body)
        if body.get("type") == kind and body.get("data", {}).get("room", {}).get("room_sid") == room_sid:
            out.append(r)
    return out


# -- forwards (§6.1) --------------------------------------------------------------------------


def test_every_accepted_callback_is_forwarded_to_each_target_re_signed_for_it(server, receivers):
    account = new_account(server)
    one, two = receivers(), receivers()
    # One target with a query string of its own: Twilio's validator signs the full URL.
    targets = [one.url("/twilio/status?app=roomlog&v=1"), two.url("/status")]
    forward_to(server, account, *targets)
    listed = cli(server, "accounts", "list")["_stdout"]
    row = next(line for line in listed.splitlines() if line.startswith(account.sid))
    assert targets[0] in row and targets[1] in row, listed

    callbacks = room_callbacks(account)
    tokens = send_room(server, account, callbacks)

    for receiver, target in zip((one, two), targets):
        got = receiver.wait_for(lambda got: all(by_token(got, t) for t in tokens), f"{len(tokens)} forwards")
        assert {r.headers.get("i-twilio-idempotency-token") for r in got} == set(tokens), "nothing else arrives"
        assert all(r.path == urlsplit(target).path + ("?" + urlsplit(target).query if urlsplit(target).query else "")
                   for r in got)
        for params, token in zip(callbacks, tokens):
            for received in by_token(got, token):  # at least once; every copy is the same
                assert_forward(received, target, params, account, token)
    # Re-signed: the signature is for the target, not for roomlog's own callback URL.
    received = by_token(two.requests(), tokens[0])[0]
    signature = received.headers["x-twilio-signature"]
    assert not RequestValidator(account.token).validate(callback_url(server), callbacks[0], signature)
    assert not RequestValidator(account.token).validate(targets[0], callbacks[0], signature)


def test_a_get_callback_is_forwarded_as_a_post_of_its_query_and_without_a_token_none_is_invented(server, receivers):
    account = new_account(server)
    receiver = receivers()
    target = receiver.url("/get-callbacks")
    forward_to(server, account, target)
    params = room_callbacks(account)[0]
    url = callback_url(server) + "?" + urlencode(params)
    signature = RequestValidator(account.token).compute_signature(url, {})
    r = requests.get(url, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert r.status_code == 204, r.text

    got = receiver.wait_for(lambda got: got, "forward")
    for received in got:
        assert_forward(received, target, params, account, None)
        assert "i-twilio-idempotency-token" not in received.headers


def test_a_refused_callback_is_never_forwarded(server, receivers):
    account = new_account(server)
    receiver = receivers()
    target = receiver.url("/status")
    forward_to(server, account, target)
    forged = room_callbacks(account)[0]
    good = RequestValidator(account.token).compute_signature(callback_url(server), forged)
    refusals = {
        "no signature": post_callback(server, account, forged, signature=None, token="forged-1"),
        "wrong signature": post_callback(server, account, forged, signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
                                         token="forged-2"),
        "signed with another token": post_callback(
            server, account, forged, signature=RequestValidator(secrets.token_hex(16)).compute_signature(
                callback_url(server), forged), token="forged-3"),
        "tampered parameter": post_callback(server, account, {**forged, "RoomName": "tampered"}, signature=good,
                                            token="forged-4"),
    }
    for case, response in refusals.items():
        assert response.status_code == 403, (case, response.status_code, response.text)

    # A valid callback queued after the forged ones: once it is in, nothing else may follow.
    marker = room_callbacks(account)[0]
    (token,) = send_room(server, account, [marker])
    receiver.wait_for(lambda got: by_token(got, token), "the valid callback's forward")
    time.sleep(GRACE)
    got = receiver.requests()
    assert {r.headers.get("i-twilio-idempotency-token") for r in got} == {token}, [r.body for r in got]
    assert all(dict(r.form)["RoomSid"] == marker["RoomSid"] for r in got)


def test_forward_targets_change_on_the_running_server(server, receivers):
    account = new_account(server)
    old, new = receivers(), receivers()
    forward_to(server, account, old.url("/a"))
    callbacks = room_callbacks(account)
    (first,) = send_room(server, account, callbacks[:1])
    old.wait_for(lambda got: by_token(got, first), "forward before the change")

    forward_to(server, account, new.url("/b"))  # the list replaces the account's
    (second,) = send_room(server, account, callbacks[1:2])
    new.wait_for(lambda got: by_token(got, second), "forward after the change")
    time.sleep(GRACE)
    assert not by_token(old.requests(), second), "the replaced target gets nothing new"
    assert not by_token(new.requests(), first), "nor does the new one get what came before it"

    forward_to(server, account, "")  # clears
    row = next(line for line in cli(server, "accounts", "list")["_stdout"].splitlines()
               if line.startswith(account.sid))
    assert "http" not in row, row
    assert post_callback(server, account, callbacks[2], token="after-clear").status_code == 204
    time.sleep(GRACE)
    assert not by_token(old.requests() + new.requests(), "after-clear")


def test_one_accounts_callbacks_and_webhooks_never_reach_another_accounts_receivers(server, receivers):
    a, b = new_account(server), new_account(server)
    ra, rb = receivers(), receivers()
    forward_to(server, a, ra.url("/forward"))
    forward_to(server, b, rb.url("/forward"))
    _, secret_a = add_webhook(server, a, ra.url("/hook"))
    _, secret_b = add_webhook(server, b, rb.url("/hook"))
    rooms = {}
    for account in (a, b):
        callbacks = room_callbacks(account)
        rooms[account.sid] = (callbacks[0]["RoomSid"], send_room(server, account, callbacks[:2]))

    for receiver, mine, theirs, secret, other_secret in ((ra, a, b, secret_a, secret_b),
                                                         (rb, b, a, secret_b, secret_a)):
        room, tokens = rooms[mine.sid]
        got = receiver.wait_for(
            lambda got: all(by_token(got, t) for t in tokens) and webhooks_of(got, "/hook", "room.started", room),
            "its account's forwards and room.started")
        time.sleep(GRACE)
        got = receiver.requests()
        for r in receiver.requests("/forward"):
            params = dict(r.form)
            assert params["AccountSid"] == mine.sid
            assert RequestValidator(mine.token).validate(receiver.url("/forward"), params, r.headers["x-twilio-signature"])
            assert not RequestValidator(theirs.token).validate(
                receiver.url("/forward"), params, r.headers["x-twilio-signature"])
        for r in receiver.requests("/hook"):
            payload = verify_webhook(r, secret)
            assert payload["data"]["room"]["account_sid"] == mine.sid
            assert payload["data"]["room"]["room_sid"] == room
            with pytest.raises(WebhookVerificationError):
                Webhook(other_secret).verify(r.body, r.headers)
        assert len(got) == len(receiver.requests("/forward")) + len(receiver.requests("/hook"))


# -- room webhooks (§6.2) ---------------------------------------------------------------------


def test_room_started_and_room_completed_are_standard_webhooks_carrying_the_served_room(server, receivers):
    account = new_account(server)
    receiver = receivers()
    endpoint_id, secret = add_webhook(server, account, receiver.url("/roomlog/events"))
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[len("whsec_"):], validate=True)) == 32
    listed = cli(server, "webhooks", "list")["_stdout"]
    assert endpoint_id in listed and receiver.url("/roomlog/events") in listed and secret not in listed

    callbacks = room_callbacks(account)
    room_sid = callbacks[0]["RoomSid"]
    send_room(server, account, callbacks[:1])
    got = receiver.wait_for(lambda got: webhooks_of(got, "/roomlog/events", "room.started", room_sid), "room.started")
    (started,) = webhooks_of(got, "/roomlog/events", "room.started", room_sid)
    payload = verify_webhook(started, secret)
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["type"] == "room.started"
    assert datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00")) <= datetime.now(timezone.utc)
    assert set(payload["data"]) == {"room"}, "room.started carries the room only"
    assert payload["data"]["room"] == served_room(server, account, room_sid), "the room as GET serves it"

    # Tampering with anything signed fails the official verifier.
    headers = started.headers
    body = started.body
    tampered = body.replace(room_sid.encode(), new_sid("RM").encode())
    assert tampered != body
    for case, data, hdrs, key in [
        ("body", tampered, headers, secret),
        ("one byte more", body + b" ", headers, secret),
        ("webhook-id", body, {**headers, "webhook-id": "msg_" + secrets.token_hex(12)}, secret),
        ("webhook-timestamp", body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)}, secret),
        ("stale", body, {**headers, "webhook-timestamp": str(int(time.time()) - 600)}, secret),
        ("another secret", body, headers, "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()),
    ]:
        with pytest.raises(WebhookVerificationError):
            Webhook(key).verify(data, hdrs)
            pytest.fail(f"{case}: verified")

    send_room(server, account, callbacks[1:])
    got = receiver.wait_for(lambda got: webhooks_of(got, "/roomlog/events", "room.completed", room_sid),
                            "room.completed")
    completed = webhooks_of(got, "/roomlog/events", "room.completed", room_sid)
    ids = {r.headers["webhook-id"] for r in completed}
    assert len(ids) == 1, f"one room.completed message (repeats keep their id): {ids}"
    payload = verify_webhook(completed[0], secret)
    assert payload["type"] == "room.completed"
    assert set(payload["data"]) == {"room", "participants"}
    room = payload["data"]["room"]
    assert (room["processing_state"], room["room_status"]) == ("complete", "completed")
    assert room == served_room(server, account, room_sid), "the room as GET serves it"
    assert payload["data"]["participants"] == served_participants(server, account, room_sid)
    assert [p["participant_identity"] for p in payload["data"]["participants"]] == [
        "ana+admin@example.com", "bo ø"]

    # twilio-python reads the webhook's room and participants as it reads its own fetches.
    client = insights(server, account)
    version = client.insights.v1
    assert public_fields(RoomInstance(version, room, room_sid)) == public_fields(client.insights.v1.rooms(room_sid).fetch())
    fetched = client.insights.v1.rooms(room_sid).participants.list()
    parsed = [ParticipantInstance(version, p, room_sid) for p in payload["data"]["participants"]]
    assert [public_fields(p) for p in parsed] == [public_fields(p) for p in fetched]

    # room.started went once, as one message.
    started_ids = {r.headers["webhook-id"] for r in webhooks_of(receiver.requests(), "/roomlog/events",
                                                                   "room.started", room_sid)}
    assert started_ids == {started.headers["webhook-id"]}
    assert started.headers["webhook-id"] not in ids


def test_a_removed_endpoint_gets_nothing_more(server, receivers):
    account = new_account(server)
    receiver = receivers()
    endpoint_id, _ = add_webhook(server, account, receiver.url("/hook"))
    forward_to(server, account, receiver.url("/forward"))  # the marker that the callbacks are in
    out = cli(server, "webhooks", "remove", endpoint_id)
    assert endpoint_id in out["_stdout"]
    assert endpoint_id not in cli(server, "webhooks", "list")["_stdout"]

    tokens = send_room(server, account, room_callbacks(account))
    receiver.wait_for(lambda got: all(by_token(got, t) for t in tokens), "the forwards")
    time.sleep(GRACE)
    assert receiver.requests("/hook") == []


# -- delivery (§6.3) ----------------------------------------------------------------------------


def test_a_410_fails_at_once_and_outbox_retry_delivers_it_again_with_the_same_webhook_id(server, receivers):
    account = new_account(server)
    receiver = receivers(status=410)
    forward_target, hook_target = receiver.url("/forward"), receiver.url("/hook")
    forward_to(server, account, forward_target)
    _, secret = add_webhook(server, account, hook_target)
    callbacks = room_callbacks(account)
    room_sid = callbacks[0]["RoomSid"]
    (token,) = send_room(server, account, callbacks[:1])

    receiver.wait_for(lambda got: by_token(got, token) and webhooks_of(got, "/hook", "room.started", room_sid),
                      "both first attempts")
    deadline = time.monotonic() + WAIT
    while True:
        failed = [row for row in outbox_failed(server) if row.room == room_sid]
        if len(failed) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted((row.kind, row.target, row.attempts) for row in failed) == [
        ("forward", forward_target, 1), ("room.started", hook_target, 1)], failed
    for row in failed:
        assert "410" in row.last_error, row
    time.sleep(GRACE)
    assert len(receiver.requests("/forward")) == 1 and len(receiver.requests("/hook")) == 1, "a 410 is not retried"

    first = receiver.requests("/hook")[0]
    webhook_row = next(row for row in failed if row.kind == "room.started")
    forward_row = next(row for row in failed if row.kind == "forward")
    assert first.headers["webhook-id"] == webhook_row.id, "outbox failed names the message by its webhook-id"
    verify_webhook(first, secret)

    receiver.status = 204  # the receiver is fixed
    out = cli(server, "outbox", "retry", webhook_row.id)
    assert out["_stdout"].strip().startswith("1 "), out["_stdout"]
    receiver.wait_for(lambda got: len(webhooks_of(got, "/hook", "room.started", room_sid)) >= 2, "the retried webhook")
    again = receiver.requests("/hook")[-1]
    assert again.headers["webhook-id"] == first.headers["webhook-id"], "the same message id"
    assert again.body == first.body, "the body is fixed when the message is queued"
    verify_webhook(again, secret)
    assert [row.id for row in outbox_failed(server) if row.room == room_sid] == [forward_row.id]

    cli(server, "outbox", "retry")  # every failed message
    receiver.wait_for(lambda got: len(by_token(got, token)) >= 2, "the retried forward")
    assert_forward(by_token(receiver.requests(), token)[-1], forward_target, callbacks[0], account, token)
    assert [row for row in outbox_failed(server) if row.room == room_sid] == []
