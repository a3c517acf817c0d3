"""A state file (`--state FILE`): one process per file, foreign and newer files refused,
`mock-server state info|reset`, and a write committed by the time it is answered."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server import MockServer
from mock_server.state import StateError
from mock_server.state.sqlite import SCHEMA

from .test_state_restart import _import, _serve


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "mock.db"


def test_a_second_server_on_the_same_file_is_refused(state: Path) -> None:
    with _serve(state):
        with pytest.raises(StateError, match="in use by another mock-server process"):
            _serve(state)
        done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", "0",
                               "--state", str(state)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"mock-server: {state} is in use by another mock-server process: one process "
            f"serves a state file (stop the other one, or share state between several with "
            f"--state postgresql://…)"]
    with _serve(state):  # the lock went with the server
        pass


def test_files_that_are_not_ours_or_too_new_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError, match="is not a mock-server state file"):
        _serve(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StateError, match="not a mock-server state file"):
        _serve(other)
    newer = tmp_path / "newer.db"
    with _serve(newer):
        pass
    db = sqlite3.connect(newer)
    db.execute("UPDATE meta SET value='99' WHERE name='schema'")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="written by a newer mock-server"):
        _serve(newer)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", *args], capture_output=True,
                          text=True, timeout=60)


def test_state_info_and_reset(state: Path) -> None:
    with _serve(state) as s:
        _import(s.url, "I1")
        busy = _cli("state", "info", "--state", str(state))
        assert busy.returncode == 2 and "in use by another mock-server" in busy.stderr
    info = _cli("state", "info", "--state", str(state))
    assert info.returncode == 0, info.stderr
    shown = json.loads(info.stdout)
    assert shown["jobs"]["imports"] >= 1 and shown["namespaces"] == ["default"]
    assert shown["backend"] == "sqlite" and shown["schema"] == SCHEMA
    reset = _cli("state", "reset", "--state", str(state))
    assert reset.returncode == 0 and "reset" in reset.stdout
    assert json.loads(_cli("state", "info", "--state", str(state)).stdout)["jobs"] == {}
    missing = _cli("state", "info", "--state", str(state.parent / "nope.db"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


@pytest.fixture
def served(state: Path) -> Iterator[MockServer]:
    with _serve(state) as s:
        yield s


def test_a_write_is_committed_when_it_is_answered(served: MockServer, state: Path) -> None:
    """Read the file from another connection right after the 201: the job is there."""
    job = _import(served.url, "C1")
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    rows = db.execute("SELECT id FROM jobs WHERE id=?", (job["id"],)).fetchall()
    db.close()
    assert rows == [(job["id"],)]
