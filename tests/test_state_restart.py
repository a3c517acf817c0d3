"""State that survives a restart, on a state file and on PostgreSQL: what a client saw before a
restart is what it sees after it — jobs at the same status at the same virtual time, records,
the clock, ids, fault and scenario rules, the rate-limit switch and the journal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.keys import WEBHOOKS
from mock_server.state import codec

from .fixtures.http import JSONAPI, START_ISO, make_token

CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}
RS = {"X-Auth-Token": "t", "Content-Type": "application/json", "Accept": "application/json"}
AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"


def _settings(path: str | Path, **more: Any) -> Settings:
    # links name one public URL, so answers before and after a restart (another port) compare
    given: dict[str, Any] = {"port": 0, "seed": 7, "frozen": True, "start": START_ISO,
                             "state": str(path), "public_url": "http://mock.test", **more}
    return Settings(**given)


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the state is kept: a file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "mock.db")
    return request.getfixturevalue("pg_url")  # type: ignore[no-any-return]


def _serve(path: str | Path, **more: Any) -> MockServer:
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


def test_jobs_records_and_the_clock_survive_a_restart(state: str) -> None:
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
        # links handed out before the restart still download: the random key was kept
        link = before[done["id"]]["attributes"]["attachment_url"]
        assert requests.get(link.replace("http://mock.test", s.url), timeout=10).status_code == 200
        assert _get(s.url, "/api/skus?filter[q][code_start]=KEEP").json() == skus
        assert _get(s.url, f"/api/exports/{export['id']}").status_code == 200
        # time goes on from where it was, and the running import ends as it would have
        _clock(s.url, advance=3600)
        ended = _get(s.url, f"/api/imports/{running['id']}").json()["data"]["attributes"]
        assert ended["status"] == "completed" and ended["processed_count"] == 1
        assert _get(s.url, "/api/skus?filter[q][code_eq]=LATER1").json()["meta"][
            "record_count"] == 1


def test_an_import_under_way_goes_on_from_its_counts_after_a_restart(state: str) -> None:
    codes = [f"HALF{n:02}" for n in range(40)]
    with _serve(state) as s:
        job = _import(s.url, *codes)
        for _ in range(3):  # items processed over several requests: counts written apart
            _clock(s.url, advance=0.7)
            seen = _get(s.url, f"/api/imports/{job['id']}").json()["data"]
        assert seen["attributes"]["status"] == "in_progress"
        assert 0 < seen["attributes"]["processed_count"] < len(codes)
        made = _get(s.url, "/api/skus?filter[q][code_start]=HALF").json()["meta"]["record_count"]
        assert made == seen["attributes"]["processed_count"]
    with _serve(state) as s:
        assert _get(s.url, f"/api/imports/{job['id']}").json()["data"] == seen
        _clock(s.url, advance=3600)
        done = _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"]
        assert done["status"] == "completed" and done["processed_count"] == len(codes)
        assert done["errors_count"] == 0  # no item applied twice (it would be "taken")
        assert _get(s.url, "/api/skus?filter[q][code_start]=HALF&page[size]=1").json()[
            "meta"]["record_count"] == len(codes)


def test_an_imports_counts_stay_with_what_later_jobs_did_after_a_restart(state: str) -> None:
    """An import's items processed one request at a time, then a cleanup that deletes what it
    made: after a restart the import's counts are those it had, so nothing is imported again."""
    where = "/api/skus?filter[q][code_start]=GONE&page[size]=1"
    with _serve(state) as s:
        job = _import(s.url, *(f"GONE{n}" for n in range(6)))
        for _ in range(40):
            _clock(s.url, advance=0.3)
            seen = _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"]
            if seen["status"] == "completed":
                break
        assert seen["processed_count"] == 6
        body = {"data": {"type": "cleanups", "attributes": {"resource_type": "skus",
                                                            "filters": {"code_start": "GONE"}}}}
        r = requests.post(f"{s.url}/api/cleanups", headers=CL, data=json.dumps(body), timeout=10)
        assert r.status_code == 201, r.text
        _clock(s.url, advance=3600)
        assert _get(s.url, f"/api/cleanups/{r.json()['data']['id']}").json()["data"][
            "attributes"]["status"] == "completed"
        assert _get(s.url, where).json()["meta"]["record_count"] == 0
    with _serve(state) as s:
        assert _get(s.url, where).json()["meta"]["record_count"] == 0
        assert _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"][
            "processed_count"] == 6


def test_a_running_clock_never_goes_back_after_a_restart(state: str) -> None:
    with _serve(state, frozen=False, speed=60) as s:
        after = _clock(s.url, advance=3600)["epoch"]
    with _serve(state, frozen=False, speed=1) as s:
        now = _clock(s.url)
        assert now["epoch"] >= after and now["speed"] == 60 and not now["frozen"]


def test_ids_stay_unique_and_deletes_stay_deleted(state: str) -> None:
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


def test_rules_switches_and_the_journal_survive_a_restart(state: str) -> None:
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


def test_a_reset_namespace_stays_reset(state: str) -> None:
    with _serve(state) as s:
        job = _import(s.url, "R1")
        assert requests.post(f"{s.url}/_mock/reset", json={"namespace": "default"},
                             timeout=10).ok
    with _serve(state) as s:
        assert _get(s.url, f"/api/imports/{job['id']}").status_code == 404


def test_rackspace_cleanups_survive_a_restart(state: str) -> None:
    with _serve(state) as s:
        r = requests.post(f"{s.url}/v2/123456/cleanups", headers=RS, timeout=10,
                          json={"agent_id": AGENT, "state": "start_requested"})
        assert r.status_code == 201, r.text
        seen = _get(s.url, "/v2/123456/cleanups", RS).json()
    with _serve(state) as s:
        assert _get(s.url, "/v2/123456/cleanups", RS).json() == seen


def test_the_kept_journal_stays_bounded(state: str) -> None:
    with _serve(state, journal_size=5) as s:
        for n in range(8):
            _get(s.url, f"/api/imports?page[number]={n + 1}")
        before = requests.get(f"{s.url}/_mock/requests", timeout=10).json()["requests"]
    with _serve(state, journal_size=5) as s:
        after = requests.get(f"{s.url}/_mock/requests", timeout=10).json()["requests"]
    assert [e["query"] for e in before] == [f"page[number]={n}" for n in range(4, 9)] or \
        [e["query"] for e in before] == [f"page%5Bnumber%5D={n}" for n in range(4, 9)]
    assert after == before


def _as_schema_1(state: str) -> None:
    """Rewrite the kept state as schema 1 stored it: the journal one uncompressed entry per row,
    each job one JSON document with its counts in it (as schemas 1 and 2 did)."""
    if not state.startswith("postgresql:"):
        db = sqlite3.connect(state)
        counts = {(t, k, i): b for t, k, i, b in
                  db.execute("SELECT tenant, kind, id, body FROM progress")}
        db.executemany("UPDATE jobs SET body=? WHERE rowid=?",
                       [(_one_document(body, counts.get((t, k, i))), rowid) for rowid, t, k, i, body
                        in db.execute("SELECT rowid, tenant, kind, id, body FROM jobs")])
        db.execute("DROP TABLE progress")
        rows = [(line, ns) for ns, body in db.execute("SELECT namespace, body FROM journal")
                for line in zlib.decompress(body).split(b"\n")]
        db.executescript("DROP TABLE journal; CREATE TABLE journal (seq INTEGER PRIMARY KEY, "
                         "namespace TEXT NOT NULL, body BLOB NOT NULL); "
                         "UPDATE meta SET value=CAST('1' AS BLOB) WHERE name='schema'")
        db.executemany("INSERT INTO journal VALUES (?, ?, ?)",
                       [(json.loads(line)[0], ns, line) for line, ns in rows])
        db.commit()
        db.close()
        return

    async def rewrite() -> None:
        conn = await asyncpg.connect(state)
        try:
            counts = {r["id"]: r["body"] for r in
                      await conn.fetch("SELECT id, body FROM mock_progress")}
            await conn.executemany("UPDATE mock_jobs SET body=$1 WHERE id=$2",
                                   [(_one_document(r["body"], counts.get(r["id"])), r["id"])
                                    for r in await conn.fetch(
                                        "SELECT id, body FROM mock_jobs WHERE body IS NOT NULL")])
            await conn.execute("DROP TABLE mock_progress")
            blocks = await conn.fetch("SELECT namespace, body FROM mock_journal ORDER BY id")
            await conn.execute("DELETE FROM mock_journal; ALTER TABLE mock_journal DROP COLUMN n;"
                               "UPDATE mock_meta SET value='1' WHERE name='schema'")
            await conn.executemany("INSERT INTO mock_journal (namespace, body) VALUES ($1, $2)",
                                   [(b["namespace"], line) for b in blocks
                                    for line in zlib.decompress(b["body"]).split(b"\n")])
        finally:
            await conn.close()

    asyncio.run(rewrite())


def _one_document(body: bytes, counts: bytes | None) -> bytes:
    """A job as schemas 1 and 2 stored it: one document, its counts in it."""
    job, tracked = codec.decode_job(body)
    if counts is not None:
        newer = codec.apply_progress(job, counts)
        tracked = tracked if newer is None else newer
    return codec.dumps(codec.job_doc(job, tracked))


def test_a_state_kept_by_the_previous_schema_is_migrated(state: str) -> None:
    codes = [f"M{n}" for n in range(40)]
    with _serve(state) as s:
        job = _import(s.url, *codes)
        _clock(s.url, advance=2)  # under way: some inputs processed, not all
        shown = _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"]
        assert shown["status"] == "in_progress" and 0 < shown["processed_count"] < len(codes)
        before = requests.get(f"{s.url}/_mock/requests", timeout=10).json()["requests"]
    _as_schema_1(state)
    with _serve(state) as s:
        again = _get(s.url, f"/api/imports/{job['id']}")
        assert again.status_code == 200 and again.json()["data"]["attributes"] == shown
        after = requests.get(f"{s.url}/_mock/requests", timeout=10).json()["requests"]
    assert len(after) == len(before) + 1  # the old entries, and the GET just made
    assert [{**e, "seq": 0} for e in after[:-1]] == [{**e, "seq": 0} for e in before]
    with _serve(state) as s:  # and the migrated state keeps working: the import goes on
        _clock(s.url, advance=3600)
        done = _get(s.url, f"/api/imports/{job['id']}").json()["data"]["attributes"]
        assert done["status"] == "completed" and done["processed_count"] == len(codes)
        kept = requests.get(f"{s.url}/_mock/requests", timeout=10).json()["requests"]
        assert [e["method"] for e in kept] == ["POST", "GET", "GET", "GET"]


def test_webhooks_and_their_event_callbacks_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"
    with _serve(path) as srv:
        inbox = f"{srv.url}/_mock/webhooks/inbox/kept"
        r = requests.post(f"{srv.url}/api/webhooks", headers=CL, timeout=10, json={"data": {
            "type": "webhooks", "attributes": {"topic": "imports.create", "callback_url": inbox}}})
        assert r.status_code == 201, r.text
        hook = r.json()["data"]
        _import(srv.url, "WH1")
        assert requests.get(inbox, timeout=30).json()["count"] == 1
        before = _get(srv.url, f"/api/webhooks/{hook['id']}/last_event_callbacks").json()
    assert before["meta"]["record_count"] == 1
    with _serve(path) as srv:
        again = _get(srv.url, f"/api/webhooks/{hook['id']}").json()["data"]
        assert again["attributes"] == hook["attributes"]  # the shared secret too
        after = _get(srv.url, f"/api/webhooks/{hook['id']}/last_event_callbacks").json()
        assert after["data"] == before["data"]


def test_a_webhook_change_alone_is_kept(state: str) -> None:
    """No job is written with it: the records of the tenant still go to the state."""
    with _serve(state) as srv:
        _import(srv.url, "WH2")  # the organization exists before the webhook
        r = requests.post(f"{srv.url}/api/webhooks", headers=CL, timeout=10, json={"data": {
            "type": "webhooks", "attributes": {"topic": "exports.complete",
                                               "callback_url": "https://example.com/h"}}})
        hook = r.json()["data"]
        r = requests.patch(f"{srv.url}/api/webhooks/{hook['id']}", headers=CL, timeout=10,
                           json={"data": {"type": "webhooks", "id": hook["id"],
                                          "attributes": {"name": "renamed"}}})
        assert r.status_code == 200, r.text
    with _serve(state) as srv:
        again = _get(srv.url, f"/api/webhooks/{hook['id']}").json()["data"]["attributes"]
        assert again["name"] == "renamed" and again["topic"] == "exports.complete"


def test_a_delivery_waiting_for_its_retry_is_resumed_after_a_restart(
        tmp_path: Path, receiver: Any) -> None:
    path = tmp_path / "mock.db"
    receiver.failing = 1
    with _serve(path) as srv:
        r = requests.post(f"{srv.url}/api/webhooks", headers=CL, timeout=10, json={"data": {
            "type": "webhooks", "attributes": {"topic": "imports.create",
                                               "callback_url": receiver.url()}}})
        assert r.status_code == 201, r.text
        _import(srv.url, "WH3")
        (waiting,) = requests.get(f"{srv.url}/_mock/webhooks/deliveries", timeout=30).json()[
            "deliveries"]
        assert waiting["status"] == "retrying"
    with _serve(path) as srv:
        _clock(srv.url, advance=60)
        (resumed,) = requests.get(f"{srv.url}/_mock/webhooks/deliveries", timeout=30).json()[
            "deliveries"]
    assert resumed["status"] == "delivered" and resumed["event_id"] == waiting["event_id"]
    assert [a["response_code"] for a in resumed["attempts"]] == [500, 200]
    assert len(receiver.got) == 2
    assert len({a.headers["x-mock-event-id"] for a in receiver.got}) == 1


def test_a_transition_that_fell_while_the_server_was_down_is_sent_after_it(
        tmp_path: Path, receiver: Any) -> None:
    path = tmp_path / "mock.db"
    with _serve(path) as srv:
        r = requests.post(f"{srv.url}/api/webhooks", headers=CL, timeout=10, json={"data": {
            "type": "webhooks", "attributes": {"topic": "exports.complete",
                                               "callback_url": receiver.url()}}})
        assert r.status_code == 201, r.text
        body = {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}}
        export = requests.post(f"{srv.url}/api/exports", headers=CL, timeout=10,
                               data=json.dumps(body)).json()["data"]
        assert requests.get(f"{srv.url}/_mock/webhooks/deliveries", timeout=30).json()[
            "count"] == 0
        # the sending side goes down; an hour passes (the export ends) before it is back
        srv.run(srv.app[WEBHOOKS].close(srv.app))
        _clock(srv.url, advance=3600)
    assert receiver.got == []
    with _serve(path) as srv:
        (sent,) = requests.get(f"{srv.url}/_mock/webhooks/deliveries", timeout=30).json()[
            "deliveries"]
    assert sent["topic"] == "exports.complete" and sent["job_id"] == export["id"]
    assert receiver.topics() == ["exports.complete"]


def test_delivery_rules_survive_a_restart(state: str) -> None:
    with _serve(state) as srv:
        for rule in ({"topic": "imports.*", "delay": {"min": 0, "max": 60}},
                     {"namespace": "qa", "callback_url": "http://x/*", "fail": True}):
            r = requests.post(f"{srv.url}/_mock/webhooks/rules", json=rule, timeout=10)
            assert r.status_code == 201, r.text
        before = requests.get(f"{srv.url}/_mock/webhooks/rules", timeout=10).json()
    with _serve(state) as srv:
        assert requests.get(f"{srv.url}/_mock/webhooks/rules", timeout=10).json() == before
        r = requests.post(f"{srv.url}/_mock/webhooks/rules", json={"drop": 1}, timeout=10)
        assert r.json()["id"] not in {rule["id"] for rule in before["rules"]}
