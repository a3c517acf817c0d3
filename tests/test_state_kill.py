"""SIGKILL at a random moment of a stream of writes, then a restart on the same state: every
acknowledged job is there with its last acknowledged change and status, nothing duplicated,
nothing that was never sent; the clock is where it was."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
import requests

from .fixtures.durability import CL, Child, Ledger, http_session, writer

WRITERS = 4


def _all_imports(url: str) -> list[dict]:
    out, page = [], 1
    while True:
        r = requests.get(f"{url}/api/imports?page[size]=25&page[number]={page}&sort=created_at",
                         headers=CL, timeout=30)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        out.extend(data)
        if len(data) < 25:
            return out
        page += 1


def kill_and_check(state: str, seed: int) -> None:
    rng = random.Random(seed)
    child = Child("--state", state, "--frozen")
    ledger = Ledger()
    try:
        clock = requests.get(f"{child.url}/_mock/clock", timeout=30).json()
        threads = [threading.Thread(target=writer, args=(child.url, ledger, seed * 100 + i,
                                                         http_session()))
                   for i in range(WRITERS)]
        for t in threads:
            t.start()
        kill_after = rng.randint(40, 160)  # acknowledged writes before the kill
        while ledger.acks < kill_after:
            assert any(t.is_alive() for t in threads), "every writer stopped before the kill"
            time.sleep(0.002)
        child.kill()  # mid-stream: the writers have requests in flight
        ledger.stopped.set()
        for t in threads:
            t.join(60)
    finally:
        child.stop()
    again = Child("--state", state)  # flags change nothing kept: the clock stays frozen
    try:
        assert requests.get(f"{again.url}/_mock/clock", timeout=30).json() == clock
        listed = _all_imports(again.url)
        ids = [j["id"] for j in listed]
        assert len(ids) == len(set(ids)), "a job is listed twice"
        unknown = [i for i in ids if i not in ledger.jobs]
        assert len(unknown) <= ledger.unanswered_creates, (unknown, ledger.unanswered_creates)
        listed_by_id = {j["id"]: j for j in listed}
        for known in ledger.jobs.values():
            seen = listed_by_id.get(known.id)
            if known.deleted:
                assert seen is None, f"{known.id}: deleted (204) but back after the restart"
                continue
            if seen is None:
                assert known.maybe_deleted, f"{known.id}: created (201) but lost"
                continue
            attrs = seen["attributes"]
            assert attrs["metadata"] in [known.metadata, *known.maybe_metadata], (known, attrs)
            if known.interrupted:
                assert attrs["status"] == "interrupted", (known, attrs)
            elif not known.maybe_interrupted:
                assert attrs["status"] == "pending", (known, attrs)
            one = requests.get(f"{again.url}/api/imports/{known.id}", headers=CL, timeout=30)
            assert one.json()["data"] == seen
        # and it goes on serving writes on the restored state
        r = requests.post(f"{again.url}/api/imports", headers=CL, timeout=30,
                          data='{"data":{"type":"imports","attributes":{"resource_type":"skus",'
                               '"inputs":[{"code":"AFTER","name":"after"}]}}}')
        assert r.status_code == 201 and r.json()["data"]["id"] not in ledger.jobs
    finally:
        again.stop()
    assert ledger.acks >= 40


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_loses_no_acknowledged_write_on_a_state_file(seed: int, tmp_path: Path) -> None:
    kill_and_check(str(tmp_path / "mock.db"), seed)


@pytest.mark.parametrize("seed", [4, 5])
def test_sigkill_loses_no_acknowledged_write_on_postgresql(seed: int, pg_url: str) -> None:
    kill_and_check(pg_url, seed)
