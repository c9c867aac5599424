"""Schemathesis against conformance/openapi/insights_video_v1.yaml and a seeded roomlog server.

Checks on every generated request: no 5xx (`not_a_server_error`) and, for documented responses
(200), `response_schema_conformance`. Path parameters are drawn partly from the schema (random
strings) and partly from the real SIDs of the seeded rooms and participants, so fetches and
participant listings exercise rooms that exist; list queries sometimes carry real page tokens.

Bounded: ROOMLOG_FUZZ_EXAMPLES (default 200) examples per operation and phase, derandomized so a
run is reproducible (set ROOMLOG_FUZZ_RANDOM=1 to explore new inputs).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "insights_video_v1.yaml"
MAX_EXAMPLES = int(os.environ.get("ROOMLOG_FUZZ_EXAMPLES", "200"))
DERANDOMIZE = not os.environ.get("ROOMLOG_FUZZ_RANDOM")

ROOM = "/v1/Video/Rooms/{RoomSid}"
PARTICIPANTS = "/v1/Video/Rooms/{RoomSid}/Participants"
PARTICIPANT = "/v1/Video/Rooms/{RoomSid}/Participants/{ParticipantSid}"


def page_tokens(server, path: str, params: dict) -> list:
    """Real PageToken values (PA… forward, PB… backward) produced by the server for `path`."""
    tokens = []
    url = None
    for _ in range(3):
        r = server.get(path, params=params) if url is None else server.get(url[len(server.url):])
        assert r.status_code == 200, (path, params, r.status_code, r.text)
        meta = r.json()["meta"]
        for key in ("next_page_url", "previous_page_url"):
            if meta.get(key):
                tokens += parse_qs(urlsplit(meta[key]).query).get("PageToken", [])
        url = meta.get("next_page_url")
        if not url:
            break
    return sorted(set(tokens))


@pytest.fixture(scope="module")
def api_schema(seeded):
    server = seeded.server
    raw = yaml.safe_load(SPEC_PATH.read_text())

    rooms = list(seeded.rooms.values())
    r1 = seeded.rooms["R1"]
    alice = seeded.participants["R1_alice"]
    # Explicit examples (the "examples" phase): real SIDs.
    for path, params in raw["paths"].items():
        for p in params["get"]["parameters"]:
            if p["name"] == "RoomSid":
                p["example"] = r1
            elif p["name"] == "ParticipantSid":
                p["example"] = alice

    schema = schemathesis.openapi.from_dict(raw)
    schema.config.update(base_url=server.url, basic_auth=server.auth)
    # Show page tokens and credentials-free requests verbatim in failure reports (local test server).
    schema.config.output.sanitization.update(enabled=False)

    # room_sid -> its participants, from the server itself.
    pairs = []
    for rm in rooms:
        r = server.get(f"/v1/Video/Rooms/{rm}/Participants")
        assert r.status_code == 200, (rm, r.status_code, r.text)
        pairs += [(rm, p["participant_sid"]) for p in r.json()["participants"]]
    assert pairs, "seeded server has no participants"
    all_pas = [pa for _, pa in pairs]
    # Real pairs, plus real participants under the wrong (but real) room.
    cross = [(rm, pa) for rm in rooms[:3] for pa in all_pas[:3]]

    room_tokens = page_tokens(server, "/v1/Video/Rooms", {"PageSize": 2})
    room_tokens += page_tokens(server, "/v1/Video/Rooms", {"PageSize": 1, "RoomType": "group"})
    part_tokens = page_tokens(server, f"/v1/Video/Rooms/{r1}/Participants", {"PageSize": 1})
    assert room_tokens and part_tokens

    @schema.hook
    def before_generate_path_parameters(context, strategy):
        path = context.operation.path
        if path in (ROOM, PARTICIPANTS):
            real = st.sampled_from(rooms).map(lambda rm: {"RoomSid": rm})
        elif path == PARTICIPANT:
            real = st.sampled_from(pairs + cross).map(lambda t: {"RoomSid": t[0], "ParticipantSid": t[1]})
        else:
            return strategy
        return st.one_of(real, real, strategy)  # mostly real SIDs

    @schema.hook
    def before_generate_query(context, strategy):
        path = context.operation.path
        tokens = room_tokens if path == "/v1/Video/Rooms" else part_tokens if path == PARTICIPANTS else None
        if not tokens:
            return strategy
        def add_token(qt):
            query, token = qt
            # Negative-mode draws are wrapped (GeneratedValue): leave those as generated.
            if query is None or isinstance(query, dict):
                return {**(query or {}), "PageToken": token}
            return query

        with_token = st.tuples(strategy, st.sampled_from(tokens)).map(add_token)
        return st.one_of(strategy, with_token)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
def test_api(case):
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
