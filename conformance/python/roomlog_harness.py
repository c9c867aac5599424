"""Start the real roomlog binary for a test, and seed it with events over HTTP.

Nothing here talks to Twilio: every server is a child process listening on
127.0.0.1 on a free port, with its own temporary SQLite database.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "roomlog"

# Requests to the local server must never go through a proxy from the environment.
for _var in ("NO_PROXY", "no_proxy"):
    _cur = os.environ.get(_var, "")
    if "127.0.0.1" not in _cur:
        os.environ[_var] = ",".join(x for x in (_cur, "127.0.0.1", "localhost") if x)
# twilio-python rewrites the host when a region or edge is configured.
os.environ.pop("TWILIO_REGION", None)
os.environ.pop("TWILIO_EDGE", None)


SERVER_SETTINGS = {
    "ROOMLOG_LISTEN",
    "ROOMLOG_DATABASE_URL",
    "ROOMLOG_PUBLIC_URL",
    "ROOMLOG_TRUST_PROXY",
    "ROOMLOG_DEFAULT_WINDOW",
    "ROOMLOG_SETTLE_WINDOW",
    "ROOMLOG_ROOM_TIMEOUT",
    "ROOMLOG_RETENTION",
    "ROOMLOG_ACCOUNT_SID",
    "ROOMLOG_AUTH_TOKEN",
}


def roomlog_bin() -> Path:
    path = Path(os.environ.get("ROOMLOG_BIN") or DEFAULT_BIN)
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"roomlog binary not found or not executable at {path}; "
            "build it (cargo build) or set ROOMLOG_BIN"
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class ApiKey:
    sid: str
    secret: str


@dataclass
class RoomlogServer:
    """One running `roomlog serve` on a fresh database."""

    extra_env: dict = field(default_factory=dict)
    # When set, ROOMLOG_PUBLIC_URL = http://{public_host}:{port} (e.g. "localhost").
    public_host: str | None = None
    account_sid: str = field(default_factory=lambda: new_sid("AC"))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))

    def __post_init__(self) -> None:
        self.bin = roomlog_bin()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="roomlog-conformance-"))
        self.db_path = self.tmpdir / "roomlog.db"
        self.database_url = f"sqlite://{self.db_path}"
        self.log_path = self.tmpdir / "server.log"
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen | None = None

    # -- lifecycle ---------------------------------------------------------

    def env(self) -> dict:
        # Server settings come from this harness only, never from the caller's environment.
        env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
        env.update(
            {
                "ROOMLOG_ACCOUNT_SID": self.account_sid,
                "ROOMLOG_AUTH_TOKEN": self.auth_token,
                "ROOMLOG_DEFAULT_WINDOW": "0",
            }
        )
        if self.public_host:
            env["ROOMLOG_PUBLIC_URL"] = f"http://{self.public_host}:{self.port}"
        env.update(self.extra_env)
        # A value of None in extra_env removes the variable (e.g. to keep the default window).
        return {k: v for k, v in env.items() if v is not None}

    def start(self, timeout: float = 30.0) -> "RoomlogServer":
        last_err = None
        for _attempt in range(3):  # the chosen port can be taken between close and bind
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [
                    str(self.bin),
                    "serve",
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    "--database-url",
                    self.database_url,
                ],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_err = f"roomlog exited with status {self.proc.returncode}"
                    break
                try:
                    r = requests.get(self.url + "/readyz", timeout=2)
                    if r.status_code == 200:
                        return self
                    last_err = f"/readyz answered {r.status_code}"
                except requests.RequestException as e:
                    last_err = repr(e)
                time.sleep(0.1)
            else:
                self.stop()
                raise RuntimeError(
                    f"roomlog not ready on {self.url} within {timeout}s ({last_err})\n{self.log_tail()}"
                )
        raise RuntimeError(f"roomlog failed to start: {last_err}\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("ROOMLOG_KEEP_TMP"):
            print(f"keeping {self.tmpdir}")
        else:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "--- roomlog log (tail) ---\n" + "\n".join(lines[-n:])

    # -- helpers -------------------------------------------------------------

    @property
    def auth(self) -> tuple[str, str]:
        return (self.account_sid, self.auth_token)

    def post_events(self, events: list[dict], auth: tuple[str, str] | None = None) -> dict:
        """POST {"events": [...]}; asserts 202 and that every event was accepted or a duplicate."""
        r = requests.post(
            self.url + "/v1/Video/Events",
            json={"events": events},
            auth=auth or self.auth,
            timeout=30,
        )
        if r.status_code != 202:
            raise AssertionError(
                f"POST /v1/Video/Events: expected 202, got {r.status_code}: {r.text}\n{self.log_tail()}"
            )
        body = r.json()
        assert body.get("accepted", 0) + body.get("duplicates", 0) == len(events), body
        return body

    def get(self, path: str, auth: tuple[str, str] | None = None, **kwargs) -> requests.Response:
        return requests.get(self.url + path, auth=auth or self.auth, timeout=30, **kwargs)

    def _cli(self, *args: str) -> dict:
        """Run `roomlog ARGS --database-url …` and parse its `name: value` lines."""
        out = subprocess.run(
            [str(self.bin), *args, "--database-url", self.database_url],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode != 0:
            raise AssertionError(f"roomlog {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        fields = {}
        for line in out.stdout.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip()] = value.strip()
        return fields | {"_stdout": out.stdout}

    def create_api_key(self) -> ApiKey:
        """`roomlog keys create` prints `sid: SK…` and `secret: …` lines."""
        f = self._cli("keys", "create", "--account", self.account_sid)
        sid, secret = f.get("sid"), f.get("secret")
        if not sid or not secret or not sid.startswith("SK"):
            raise AssertionError(f"cannot parse `roomlog keys create` output:\n{f['_stdout']}")
        return ApiKey(sid, secret)

    def create_account(self) -> tuple[str, str]:
        """`roomlog accounts create` prints `sid: AC…` and `auth_token: …` lines."""
        f = self._cli("accounts", "create")
        sid, token = f.get("sid"), f.get("auth_token")
        if not sid or not token or not sid.startswith("AC"):
            raise AssertionError(f"cannot parse `roomlog accounts create` output:\n{f['_stdout']}")
        return sid, token


# -- the shared seed data (conformance/seed/dataset.json) ------------------------

DATASET_PATH = REPO_ROOT / "conformance" / "seed" / "dataset.json"


@dataclass
class Seeded:
    server: RoomlogServer
    rooms: dict  # label -> RM sid
    participants: dict  # label -> PA sid
    order: list  # labels, newest first
    live_create_time: "object"  # datetime (UTC, whole seconds) of the LIVE room

    def sids(self, *labels: str) -> list:
        return [self.rooms[label] for label in labels]


def live_events(dataset: dict, now=None) -> tuple[list, "object"]:
    import datetime as dt

    now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    out = []
    created = None
    for e in dataset["live_events"]:
        e = dict(e)
        ts = now + dt.timedelta(seconds=e.pop("offset_sec"))
        if e["event"] == "room-created":
            created = ts
        e["timestamp"] = ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        out.append(e)
    return out, created


def seed(server: RoomlogServer) -> Seeded:
    import json

    dataset = json.loads(DATASET_PATH.read_text())
    live, created = live_events(dataset)
    server.post_events(dataset["events"])
    server.post_events(live)
    return Seeded(
        server=server,
        rooms=dataset["rooms"],
        participants=dataset["participants"],
        order=dataset["order"],
        live_create_time=created,
    )
