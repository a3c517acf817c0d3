"""PostgreSQL as the state backend: `mock-server state info|reset` on a database URL, and a
database that cannot be used refused with a message saying why."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from mock_server import MockServer, Settings
from mock_server.state import StateError
from mock_server.state.postgres import PostgresState

from .fixtures.http import START_ISO
from .test_state_restart import _import


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", *args], capture_output=True,
                          text=True, timeout=60)


def test_state_info_and_reset_on_a_database(pg_url: str) -> None:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO, state=pg_url)) as s:
        _import(s.url, "P1")
        while_served = _cli("state", "info", "--state", pg_url)  # replicas share: no lock
        assert while_served.returncode == 0, while_served.stderr
    shown = json.loads(_cli("state", "info", "--state", pg_url).stdout)
    assert shown["backend"] == "postgresql" and shown["jobs"]["imports"] >= 1
    assert shown["namespaces"] == ["default"] and "@" in shown["url"]
    reset = _cli("state", "reset", "--state", pg_url)
    assert reset.returncode == 0, reset.stderr
    assert json.loads(_cli("state", "info", "--state", pg_url).stdout)["jobs"] == {}


def test_an_unreachable_database_is_refused_in_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    url = f"postgresql://someone:secret@127.0.0.1:{port}/nowhere"
    with pytest.raises(StateError, match="cannot use PostgreSQL at") as caught:
        PostgresState(url)
    assert "secret" not in str(caught.value)  # the password is never printed
    done = _cli("serve", "--port", "0", "--state", url)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot use PostgreSQL" in done.stderr and "secret" not in done.stderr


def test_a_database_of_a_newer_version_is_refused(pg_url: str) -> None:
    backend = PostgresState(pg_url)
    try:
        async def newer() -> None:
            async with backend._pool.acquire() as conn:  # noqa: SLF001 - set up the case
                await conn.execute("UPDATE mock_meta SET value='99' WHERE name='schema'")

        backend.call(newer())
    finally:
        backend.close()
    with pytest.raises(StateError, match="written by a newer mock-server"):
        PostgresState(pg_url)
