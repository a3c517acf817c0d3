"""Two replicas on one PostgreSQL database behave as one server: a job created through one is
read, patched, interrupted and deleted through the other; the clock, fault rules and the journal
and rate-limit windows are shared; ids never collide; and 100 clients spread over both lose and
duplicate nothing.

A write is answered once every replica has it, so a read through the other replica right after
the answer sees it."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

import asyncpg
import pytest
import requests

from mock_server import MockServer

from .fixtures.durability import CL, Child

T = TypeVar("T")
ORDER = {"pending": 0, "in_progress": 1, "completed": 2, "interrupted": 2}


def _create(url: str, code: str, **attrs: Any) -> requests.Response:
    return requests.post(f"{url}/api/imports", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "imports", "attributes": {
            "resource_type": "skus", "inputs": [{"code": code, "name": code}], **attrs}}}))


def _patch(url: str, job_id: str, **attrs: Any) -> requests.Response:
    return requests.patch(f"{url}/api/imports/{job_id}", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "imports", "id": job_id, "attributes": attrs}}))


def _job(url: str, job_id: str) -> requests.Response:
    return requests.get(f"{url}/api/imports/{job_id}", headers=CL, timeout=30)


def test_a_job_lives_across_replicas(pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    created = _create(a.url, "X1", metadata={"by": "a"})
    assert created.status_code == 201
    job_id = created.json()["data"]["id"]
    seen = _job(b.url, job_id)  # at once: a replica that finds no job catches up before a 404
    assert seen.status_code == 200 and seen.json()["data"] == created.json()["data"]
    assert _patch(b.url, job_id, metadata={"by": "b"}).status_code == 200
    assert _job(a.url, job_id).json()["data"]["attributes"]["metadata"] == {"by": "b"}
    assert _patch(b.url, job_id, _interrupt=True).status_code == 200
    assert _job(a.url, job_id).json()["data"]["attributes"]["status"] == "interrupted"
    assert requests.delete(f"{a.url}/api/imports/{job_id}", headers=CL,
                           timeout=30).status_code == 204
    assert _job(b.url, job_id).status_code == 404


def test_the_clock_rules_and_journal_are_shared(pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    moved = requests.post(f"{a.url}/_mock/clock", json={"advance": 3600}, timeout=30).json()
    assert requests.get(f"{b.url}/_mock/clock", timeout=30).json() == moved
    job_id = _create(b.url, "C1").json()["data"]["id"]
    requests.post(f"{b.url}/_mock/clock", json={"advance": 3600}, timeout=30)
    assert _job(a.url, job_id).json()["data"]["attributes"]["status"] == "completed"
    rule = requests.post(f"{a.url}/_mock/faults", json={"path": "/api/exports", "status": 503},
                         timeout=30).json()
    assert [r["id"] for r in requests.get(f"{b.url}/_mock/faults",
                                          timeout=30).json()["rules"]] == [rule["id"]]
    export = {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}}
    refused = requests.post(f"{b.url}/api/exports", headers=CL, data=json.dumps(export),
                            timeout=30)
    assert refused.status_code == 503  # the rule added through A fires on B
    paths = [(e["method"], e["path"]) for e in
             requests.get(f"{a.url}/_mock/requests", timeout=30).json()["requests"]]
    assert paths[0] == ("POST", "/api/imports") and ("GET", f"/api/imports/{job_id}") in paths
    assert ("POST", "/api/exports") in paths  # served by B, listed by A
    assert requests.post(f"{b.url}/_mock/reset", json={}, timeout=30).ok
    assert requests.get(f"{a.url}/_mock/faults", timeout=30).json()["rules"] == []
    assert _job(a.url, job_id).status_code == 404


def test_the_admin_job_view_agrees_across_replicas(pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    created = requests.post(f"{a.url}/api/imports", timeout=30, data=json.dumps(
        {"data": {"type": "imports", "attributes": {"resource_type": "skus", "inputs": [
            {"code": f"E{i}", "name": f"E{i}"} for i in range(10)]}}}),
        headers={**CL, "X-Mock-Scenario": "error_rate=50%"})
    job_id = created.json()["data"]["id"]
    requests.post(f"{b.url}/_mock/clock", json={"advance": 3600}, timeout=30)
    # read first through B's admin API: it applies the items due, in the tenant's transaction
    row = requests.get(f"{b.url}/_mock/jobs", timeout=30).json()["jobs"][0]
    view = requests.get(f"{b.url}/_mock/jobs/imports/{job_id}", timeout=30).json()
    api = _job(a.url, job_id).json()["data"]["attributes"]
    assert view["attributes"] == api and api["errors_count"] > 0
    link = api["attachment_url"]  # signed by A (or B): both replicas share the random key
    for replica in (a, b):
        r = requests.get(link.replace("http://mock.test", replica.url), timeout=30)
        assert r.status_code == 200
    assert (row["id"], row["processed"], row["errors"]) == \
        (job_id, api["processed_count"], api["errors_count"])


def test_rate_limit_windows_are_counted_across_replicas(
        pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    assert requests.put(f"{a.url}/_mock/rate_limits", json={"enabled": True}, timeout=30).ok
    limits = requests.get(f"{b.url}/_mock/rate_limits", timeout=30).json()
    assert limits["enabled"] is True
    burst = int(limits["burst"]["cacheable"]["limit"] * limits["test_factor"])  # test mode
    statuses = []
    for n in range(burst + 1):  # the frozen clock keeps every request in the window
        r = requests.get(f"{(a, b)[n % 2].url}/api/imports", headers=CL, timeout=30)
        statuses.append(r.status_code)
    assert statuses[:burst] == [200] * burst and statuses[burst] == 429, statuses[-3:]
    assert r.headers["X-Ratelimit-Limit"] == str(burst) and "Retry-After" in r.headers


def test_concurrent_creates_through_both_replicas_get_distinct_ids(
        pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    made: list[str] = []
    lock = threading.Lock()

    def create(url: str, n: int) -> None:
        for i in range(10):
            r = _create(url, f"ID{n}-{i}")
            assert r.status_code == 201, r.text
            with lock:
                made.append(r.json()["data"]["id"])

    threads = [threading.Thread(target=create, args=(s.url, n))
               for n, s in enumerate([a, b, a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(made) == 60 and len(set(made)) == 60
    for server in (a, b):
        assert set(made) <= _all_ids(server.url)


def _all_ids(url: str) -> set[str]:
    r = requests.get(f"{url}/api/imports?page[size]=25&page[number]=1", headers=CL, timeout=30)
    pages = r.json()["meta"]["page_count"]
    out = {j["id"] for j in r.json()["data"]}
    for page in range(2, pages + 1):
        out |= {j["id"] for j in requests.get(
            f"{url}/api/imports?page[size]=25&page[number]={page}", headers=CL,
            timeout=30).json()["data"]}
    return out


@pytest.fixture
def processes(pg_url: str) -> Iterator[tuple[Child, Child]]:
    a = Child("--state", pg_url, "--frozen")
    b = Child("--state", pg_url)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_a_hundred_clients_over_two_replica_processes(processes: tuple[Child, Child]) -> None:
    """Each client creates, polls, interrupts and deletes through either replica at random."""
    urls = [p.url for p in processes]
    requests.post(f"{urls[0]}/_mock/clock", json={"resume": True, "speed": 60}, timeout=30)
    created: dict[str, str] = {}  # id → the client that made it
    deleted: set[str] = set()
    problems: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        http = requests.Session()
        http.headers.update(CL)
        mine: list[str] = []
        seen: dict[str, int] = {}
        for step in range(6):
            url = rng.choice(urls)
            if not mine or rng.random() < 0.4:
                r = http.post(f"{url}/api/imports", timeout=60, data=json.dumps({"data": {
                    "type": "imports", "attributes": {"resource_type": "skus", "inputs": [
                        {"code": f"H{n}-{step}", "name": "h"}]}}}))
                if r.status_code != 201:
                    problems.append(f"create {r.status_code} {r.text[:200]}")
                    continue
                job_id = r.json()["data"]["id"]
                mine.append(job_id)
                with lock:
                    created[job_id] = str(n)
                continue
            job_id = rng.choice(mine)
            before = seen.get(job_id, 0)

            r = http.get(f"{url}/api/imports/{job_id}", timeout=60)
            if r.status_code != 200:
                problems.append(f"read {job_id}: {r.status_code}")
                continue
            status = r.json()["data"]["attributes"]["status"]
            if ORDER[status] < before:
                problems.append(f"{job_id} moved backwards to {status}")
            seen[job_id] = ORDER[status]
            if status in ("pending", "in_progress") and rng.random() < 0.5:
                r = http.patch(f"{url}/api/imports/{job_id}", timeout=60, data=json.dumps(
                    {"data": {"type": "imports", "id": job_id, "attributes": {"_interrupt": True}}}))
                if r.status_code not in (200, 422):
                    problems.append(f"interrupt {r.status_code}")
            elif status in ("completed", "interrupted"):
                r = http.delete(f"{url}/api/imports/{job_id}", timeout=60)
                if r.status_code != 204:
                    problems.append(f"delete {r.status_code} {r.text[:200]}")
                    continue
                mine.remove(job_id)
                with lock:
                    deleted.add(job_id)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not problems, problems[:10]
    assert len(created) >= 100 and deleted

    def listed(url: str) -> list[str]:
        out: list[str] = []
        page = 1
        while True:
            data = requests.get(f"{url}/api/imports?page[size]=25&page[number]={page}",
                                headers=CL, timeout=30).json()["data"]
            out.extend(j["id"] for j in data)
            if len(data) < 25:
                return out
            page += 1

    for url in urls:
        ids = listed(url)
        assert len(ids) == len(set(ids)), "a job is listed twice"
        assert set(ids) & set(created) == set(created) - deleted, url
        assert len(ids) == len(created) - len(deleted) + len(set(ids) - set(created))


def test_a_namespace_with_quotes_and_backslashes_is_shared(
        pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    ns = "/_ns/it's%5C'x"  # it's\'x: written into the database's locks and notices as text
    created = _create(a.url + ns, "Q1")
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["id"]
    assert _patch(b.url + ns, job_id, metadata={"by": "b"}).status_code == 200
    assert _job(a.url + ns, job_id).json()["data"]["attributes"]["metadata"] == {"by": "b"}
    assert _job(a.url, job_id).status_code == 404  # another namespace


def test_an_import_under_way_through_one_replica_goes_on_through_the_other(
        pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    codes = [f"PASS{n:02}" for n in range(40)]
    created = requests.post(f"{a.url}/api/imports", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "imports", "attributes": {"resource_type": "skus", "inputs": [
            {"code": c, "name": c} for c in codes]}}}))
    assert created.status_code == 201
    job_id = created.json()["data"]["id"]
    seen = []
    for n in range(6):  # items processed by whichever replica reads first, in turn
        assert requests.post(f"{a.url}/_mock/clock", json={"advance": 0.4}, timeout=30).ok
        first, second = (a, b) if n % 2 else (b, a)
        shown = _job(first.url, job_id).json()["data"]
        assert _job(second.url, job_id).json()["data"] == shown
        seen.append(shown["attributes"]["processed_count"])
    assert seen == sorted(seen) and 0 < seen[-1] < len(codes)
    assert requests.post(f"{b.url}/_mock/clock", json={"advance": 3600}, timeout=30).ok
    for replica in (a, b):
        done = _job(replica.url, job_id).json()["data"]["attributes"]
        assert done["status"] == "completed" and done["processed_count"] == len(codes)
        assert done["errors_count"] == 0  # no item applied twice (it would be "taken")


def test_a_replica_takes_an_imports_counts_from_the_other(
        pair: tuple[MockServer, MockServer]) -> None:
    """Items processed through A one request at a time, then a cleanup through A deletes what
    they made: B, reading only afterwards, imports nothing again."""
    a, b = pair
    where = "/api/skus?filter[q][code_start]=AWAY&page[size]=1"
    created = requests.post(f"{a.url}/api/imports", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "imports", "attributes": {"resource_type": "skus", "inputs": [
            {"code": f"AWAY{n}", "name": "away"} for n in range(6)]}}}))
    job_id = created.json()["data"]["id"]
    assert _job(b.url, job_id).status_code == 200  # B has the job while it is pending
    for _ in range(40):
        assert requests.post(f"{a.url}/_mock/clock", json={"advance": 0.3}, timeout=30).ok
        seen = _job(a.url, job_id).json()["data"]["attributes"]
        if seen["status"] == "completed":
            break
    assert seen["processed_count"] == 6
    cleanup = requests.post(f"{a.url}/api/cleanups", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "cleanups", "attributes": {"resource_type": "skus",
                                                     "filters": {"code_start": "AWAY"}}}}))
    assert cleanup.status_code == 201
    assert requests.post(f"{a.url}/_mock/clock", json={"advance": 3600}, timeout=30).ok
    assert requests.get(f"{a.url}{where}", headers=CL, timeout=30).json()["meta"][
        "record_count"] == 0
    assert requests.get(f"{b.url}{where}", headers=CL, timeout=30).json()["meta"][
        "record_count"] == 0
    assert _job(b.url, job_id).json()["data"]["attributes"]["processed_count"] == 6


def test_writes_that_wait_for_another_replicas_lock_are_each_answered_once(
        pair: tuple[MockServer, MockServer], pg_url: str) -> None:
    """Creates through A that come while another replica holds the lock (here a session that
    holds the lock every tenant write shares) wait, unanswered; once it is let go, each is
    committed and answered once (they join the transaction that waited for the lock), and B has
    them all."""
    a, b = pair

    async def run() -> list[requests.Response]:
        holder = await asyncpg.connect(pg_url)
        try:
            await holder.execute("SELECT pg_advisory_lock(2, 0)")  # GLOBAL_LOCK, exclusive
            loop = asyncio.get_running_loop()
            sent = [loop.run_in_executor(None, _create, a.url, f"WAIT{n}") for n in range(6)]
            for _ in range(3000):  # until A's transaction waits for the lock (30 s at most)
                if await holder.fetchval(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                        "WHERE d.datname = current_database() AND l.locktype = 'advisory' "
                        "AND NOT l.granted"):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("no write through A waited for the lock")
            assert not any(s.done() for s in sent)  # nothing is answered before it is committed
            await holder.execute("SELECT pg_advisory_unlock(2, 0)")
            return list(await asyncio.gather(*sent))
        finally:
            await holder.close()

    answers = asyncio.run(run())
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    made = [r.json()["data"]["id"] for r in answers]
    assert len(set(made)) == 6 and set(made) <= _all_ids(b.url)
