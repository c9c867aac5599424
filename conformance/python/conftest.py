"""pytest fixtures: a real `roomlog serve` per test module, on a fresh temp database and a free port.

The binary is $ROOMLOG_BIN (default: <repo>/target/debug/roomlog). A missing binary is an error,
never a skip.
"""

from __future__ import annotations

import pytest

from roomlog_harness import RoomlogServer, seed


@pytest.fixture(scope="module")
def server():
    """A running server (ROOMLOG_DEFAULT_WINDOW=0) on an empty database, one per test module."""
    srv = RoomlogServer()
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def seeded(server):
    """The module's server holding conformance/seed/dataset.json (plus one live room)."""
    return seed(server)


@pytest.fixture
def make_server():
    """Factory for extra servers private to one test: make_server(extra_env={...})."""
    started = []

    def _make(**kwargs) -> RoomlogServer:
        srv = RoomlogServer(**kwargs)
        started.append(srv)
        return srv.start()

    try:
        yield _make
    finally:
        for srv in started:
            srv.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of each server's log to a failing test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        funcargs = getattr(item, "funcargs", {}) or {}
        seen = set()
        for name, value in funcargs.items():
            srv = getattr(value, "server", value)
            if isinstance(srv, RoomlogServer) and id(srv) not in seen:
                seen.add(id(srv))
                report.sections.append((f"roomlog log ({srv.url})", srv.log_tail()))
