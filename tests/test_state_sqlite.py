"""A state file (`--state FILE`): what a client saw before a restart is what it sees after it —
jobs at the same status at the same virtual time, records, the clock, ids, fault and scenario
rules, the rate-limit switch and the journal; and a file another process serves is refused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.state import StateError

from .fixtures.http import JSONAPI, START_ISO, make_token

CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}
RS = {"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "application/json"}
AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"


def _settings(path: Path, **more: Any) -> Settings:
    # links name one public URL, so answers before and after a restart (another port) compare
    given: dict[str, Any] = {"port": 0, "seed": 7, "frozen": True, "start": START_ISO,
                             "state": str(path), "public_url": "http://mock.test", **more}
    return Settings(**given)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "mock.db"


def _serve(path: Path, **more: Any) -> MockServer:
    return MockServer(_settings(path, **more))


def _import(url: str, *codes: str, **attrs: Any) -> dict[str, Any]:
    inputs = [{"code": c, "name": f"Item {c}"} for c in codes]
    body = {"data": {"type": "imports", "attributes": {"resource_type": "skus", "inputs": inputs,
                                                        **attrs}}}
    r = requests.post(f"{url}/api/imports", headers=CL, data=json.dumps(body), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


def _get(url: str, path: str, headers: dict[str, str] = CL) -> requests.Response:
    return requests.get(url + path, headers=headers, timeout=10)


def _clock(url: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{url}/_mock/clock", json=body, timeout=10) if body else \
        requests.get(f"{url}/_mock/clock", timeout=10)
    assert r.ok, r.text
    return r.json()  # type: ignore[no-any-return]


def test_jobs_records_and_the_clock_survive_a_restart(state: Path) -> None:
    with _serve(state) as s:
        done = _import(s.url, "KEEP1", "KEEP2")
        _clock(s.url, advance=3600)  # the import has ended: its records exist
        running = _import(s.url, "LATER1")
        export = requests.post(f"{s.url}/api/exports", headers=CL, timeout=10, data=json.dumps(
            {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}})).json()["data"]
        before = {j["id"]: _get(s.url, f"/api/imports/{j['id']}").json()["data"]
                  for j in (done, running)}
        clock = _clock(s.url)
        skus = _get(s.url, "/api/skus?filter[q][code_start]=KEEP").json()
    with _serve(state) as s:
        assert _clock(s.url) == clock  # frozen: exactly the same instant
        for job_id, seen in before.items():
            assert _get(s.url, f"/api/imports/{job_id}").json()["data"] == seen
        assert _get(s.url, "/api/skus?filter[q][code_start]=KEEP").json() == skus
        assert _get(s.url, f"/api/exports/{export['id']}").status_code == 200
        # time goes on from where it was, and the running import ends as it would have
        _clock(s.url, advance=3600)
        ended = _get(s.url, f"/api/imports/{running['id']}").json()["data"]["attributes"]
        assert ended["status"] == "completed" and ended["processed_count"] == 1
        assert _get(s.url, "/api/skus?filter[q][code_eq]=LATER1").json()["meta"][
            "record_count"] == 1


def test_a_running_clock_never_goes_back_after_a_restart(state: Path) -> None:
    with _serve(state, frozen=False, speed=60) as s:
        after = _clock(s.url, advance=3600)["epoch"]
    with _serve(state, frozen=False, speed=1) as s:
        now = _clock(s.url)
        assert now["epoch"] >= after and now["speed"] == 60 and not now["frozen"]


def test_ids_stay_unique_and_deletes_stay_deleted(state: Path) -> None:
    with _serve(state) as s:
        first = _import(s.url, "A1")
        _clock(s.url, advance=3600)
        gone = _import(s.url, "A2")
        _clock(s.url, advance=3600)
        r = requests.delete(f"{s.url}/api/imports/{gone['id']}", headers=CL, timeout=10)
        assert r.status_code == 204
    with _serve(state) as s:
        assert _get(s.url, f"/api/imports/{gone['id']}").status_code == 404
        again = _import(s.url, "A3")
        assert again["id"] not in (first["id"], gone["id"])
        ids = [j["id"] for j in _get(s.url, "/api/imports?sort=created_at").json()["data"]]
        assert ids[-2:] == [first["id"], again["id"]]  # creation order kept


def test_rules_switches_and_the_journal_survive_a_restart(state: Path) -> None:
    with _serve(state) as s:
        fault = requests.post(f"{s.url}/_mock/faults", timeout=10, json={
            "path": "/api/exports", "method": "POST", "status": 503, "times": 5}).json()
        assert requests.put(f"{s.url}/_mock/rate_limits", json={"enabled": True},
                            timeout=10).ok
        job = _import(s.url, "J1")
        r = requests.post(f"{s.url}/_mock/jobs/imports/{job['id']}/scenario", timeout=10,
                          json={"interrupt_at": 50})
        assert r.ok, r.text
        journal = requests.get(f"{s.url}/_mock/requests", timeout=10).json()
    with _serve(state) as s:
        faults = requests.get(f"{s.url}/_mock/faults", timeout=10).json()
        assert [f["id"] for f in faults["rules"]] == [fault["id"]]
        assert requests.get(f"{s.url}/_mock/rate_limits", timeout=10).json()["enabled"] is True
        r = requests.post(f"{s.url}/api/exports", headers=CL, timeout=10, data=json.dumps(
            {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}}))
        assert r.status_code == 503  # the kept rule fires
        kept = requests.get(f"{s.url}/_mock/requests", timeout=10).json()
        assert kept["requests"][:len(journal["requests"])] == journal["requests"]
        assert [e["path"] for e in journal["requests"]] == ["/api/imports"]
        _clock(s.url, advance=3600)
        assert _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"][
            "status"] == "interrupted"  # the kept scenario


def test_a_reset_namespace_stays_reset(state: Path) -> None:
    with _serve(state) as s:
        job = _import(s.url, "R1")
        assert requests.post(f"{s.url}/_mock/reset", json={"namespace": "default"},
                             timeout=10).ok
    with _serve(state) as s:
        assert _get(s.url, f"/api/imports/{job['id']}").status_code == 404


def test_rackspace_cleanups_survive_a_restart(state: Path) -> None:
    with _serve(state) as s:
        r = requests.post(f"{s.url}/v2/123456/cleanups", headers=RS, timeout=10,
                          json={"agent_id": AGENT, "state": "start_requested"})
        assert r.status_code == 201, r.text
        seen = _get(s.url, "/v2/123456/cleanups", RS).json()
    with _serve(state) as s:
        assert _get(s.url, "/v2/123456/cleanups", RS).json() == seen


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
    assert shown["backend"] == "sqlite" and shown["schema"] == 1
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
