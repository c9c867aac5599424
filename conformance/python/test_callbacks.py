"""Twilio status callbacks, signed by the official library's RequestValidator (the oracle).

The stream is crates/cli/tests/fixtures/twilio_room_callbacks.json: two rooms' callbacks built
from Twilio's documented parameter list (see the README beside it for the hand-checked values).
"""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from roomlog_harness import REPO_ROOT, new_sid

FIXTURE = REPO_ROOT / "crates" / "cli" / "tests" / "fixtures" / "twilio_room_callbacks.json"
ROOM_A = "RM00000000000000000000000000000a01"
ROOM_B = "RM00000000000000000000000000000b01"


def stream(account_sid: str) -> list[dict]:
    callbacks = json.loads(Path(FIXTURE).read_text())
    for params in callbacks:
        params["AccountSid"] = account_sid
    return callbacks


def post_callback(url: str, params: dict, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(url, data=urlencode(params), headers=headers, timeout=10)


def insights(server) -> Client:
    client = Client(server.account_sid, server.auth_token)
    client.insights.base_url = server.url
    return client


def test_the_official_validator_reproduces_the_behaviour_vector():
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    signature = RequestValidator("12345").compute_signature("https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_a_room_signed_by_the_official_library_folds_to_the_hand_checked_summary(make_server):
    # The fixture is from 2025: a room timeout of 100 years keeps room B open.
    server = make_server(extra_env={"ROOMLOG_SETTLE_WINDOW": "0", "ROOMLOG_ROOM_TIMEOUT": "36500d"})
    validator = RequestValidator(server.auth_token)
    url = server.url + "/v1/Video/Callbacks"
    callbacks = stream(server.account_sid)
    shuffled = callbacks + random.Random(7).sample(callbacks, 8)  # duplicates, too
    random.Random(11).shuffle(shuffled)
    for params in shuffled:
        response = post_callback(url, params, validator.compute_signature(url, params))
        assert response.status_code == 204, (params["StatusCallbackEvent"], response.text)

    room = insights(server).insights.v1.rooms(ROOM_A).fetch()
    assert room.room_type == "group"
    assert room.create_time == datetime(2025, 10, 27, 18, 0, 0, tzinfo=timezone.utc)
    assert room.end_time == datetime(2025, 10, 27, 18, 10, 0, tzinfo=timezone.utc)
    assert (room.duration_sec, room.room_status, room.processing_state) == (600, "completed", "complete")
    assert (room.unique_participants, room.unique_participant_identities, room.concurrent_participants) == (3, 2, 2)
    assert room.codecs == ["VP8", "H264", "opus"]
    assert room.total_recording_duration_sec == 1587
    assert room.total_participant_duration_sec == 1135
    assert room.recording_enabled is True

    participants = insights(server).insights.v1.rooms(ROOM_A).participants.list()
    summary = [(p.participant_identity, p.duration_sec, p.codecs, p.status) for p in participants]
    assert summary == [
        ("alice", 595, ["VP8", "opus"], "completed"),
        ("bob", 300, ["H264"], "completed"),
        ("bob", 240, [], "completed"),
    ]
    assert participants[2].leave_time == room.end_time, "still connected at room end"

    live = insights(server).insights.v1.rooms(ROOM_B).fetch()
    assert (live.room_type, live.room_status, live.end_time, live.duration_sec) == ("peer_to_peer", "in_progress", None, None)


@pytest.mark.parametrize(
    "case, mutate",
    [
        ("missing signature", lambda url, params, sig: (params, None)),
        ("wrong signature", lambda url, params, sig: (params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")),
        ("tampered parameter", lambda url, params, sig: ({**params, "RoomName": "other"}, sig)),
        ("unknown account", lambda url, params, sig: ({**params, "AccountSid": new_sid("AC")}, sig)),
    ],
)
def test_unverifiable_callbacks_are_refused_with_403_and_nothing_is_stored(server, case, mutate):
    url = server.url + "/v1/Video/Callbacks"
    params = stream(server.account_sid)[0]
    params["RoomSid"] = new_sid("RM")
    signature = RequestValidator(server.auth_token).compute_signature(url, params)
    sent, signature = mutate(url, params, signature)
    response = post_callback(url, sent, signature)
    assert response.status_code == 403, case
    assert response.json()["status"] == 403, case
    fetched = requests.get(f"{server.url}/v1/Video/Rooms/{params['RoomSid']}", auth=server.auth, timeout=10)
    assert fetched.status_code == 404, f"{case}: nothing stored"


def test_behind_a_proxy_the_public_url_is_signed_with_and_without_its_default_port(make_server):
    server = make_server(extra_env={"ROOMLOG_PUBLIC_URL": "https://video.example.com"})
    validator = RequestValidator(server.auth_token)
    local = server.url + "/v1/Video/Callbacks"
    for i, signed_url in enumerate(["https://video.example.com/v1/Video/Callbacks",
                                    "https://video.example.com:443/v1/Video/Callbacks"]):
        params = stream(server.account_sid)[0]
        params["RoomSid"] = new_sid("RM")
        response = post_callback(local, params, validator.compute_signature(signed_url, params))
        assert response.status_code == 204, (signed_url, response.text)
    params = stream(server.account_sid)[0]
    response = post_callback(local, params, validator.compute_signature(local, params))
    assert response.status_code == 403, "the URL Twilio called is the public one, not the local one"


def test_a_get_callback_is_signed_over_its_full_url_with_the_query(server):
    params = copy.deepcopy(stream(server.account_sid)[0])
    params["RoomSid"] = new_sid("RM")
    url = server.url + "/v1/Video/Callbacks?" + urlencode(params)
    signature = RequestValidator(server.auth_token).compute_signature(url, {})
    assert RequestValidator(server.auth_token).validate(url, {}, signature)
    response = requests.get(url, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == 204, response.text
    room = insights(server).insights.v1.rooms(params["RoomSid"]).fetch()
    assert room.room_name == params["RoomName"]


def test_a_url_with_an_explicit_port_is_also_accepted_without_it(make_server):
    server = make_server(extra_env={"ROOMLOG_PUBLIC_URL": "http://video.example.com:80"})
    params = stream(server.account_sid)[0]
    params["RoomSid"] = new_sid("RM")
    signature = RequestValidator(server.auth_token).compute_signature("http://video.example.com/v1/Video/Callbacks", params)
    response = post_callback(server.url + "/v1/Video/Callbacks", params, signature)
    assert response.status_code == 204, response.text


def test_a_room_silent_past_the_room_timeout_is_closed_as_timeout_at_its_last_event(make_server):
    server = make_server(extra_env={"ROOMLOG_ROOM_TIMEOUT": "24h"})
    validator = RequestValidator(server.auth_token)
    url = server.url + "/v1/Video/Callbacks"
    for params in stream(server.account_sid):
        if params["RoomSid"] == ROOM_B:
            assert post_callback(url, params, validator.compute_signature(url, params)).status_code == 204
    room = insights(server).insights.v1.rooms(ROOM_B).fetch()
    assert (room.processing_state, room.room_status, room.end_reason) == ("timeout", "completed", None)
    assert room.end_time == datetime(2025, 10, 27, 18, 20, 1, tzinfo=timezone.utc), "closed at its last event"
    carol = insights(server).insights.v1.rooms(ROOM_B).participants.list()[0]
    assert carol.leave_time == room.end_time
