"""The request journal: bounded per namespace, filtered, counted, cleared; the admin API stays out."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server import MockServer
from mock_server.keys import JOURNAL
from mock_server.qa.journal import Journal, Query

from .fixtures.http import Api
from .fixtures.qa import Jobs, served


def entry(journal: Journal, namespace: str = "default", method: str = "GET", path: str = "/x",
          status: int | None = 200, body: str | None = None) -> None:
    journal.add(at=0.0, namespace=namespace, method=method, path=path, query="", operation=None,
                request_headers=(), request_body=body, status=status, response_headers=(),
                response_body=None, duration_ms=1.0, fault=None)


# ---- the journal as a value ------------------------------------------------------------------


def test_each_namespace_keeps_its_newest_entries() -> None:
    journal = Journal(size=3)
    for i in range(5):
        entry(journal, path=f"/a/{i}")
    entry(journal, namespace="ci", path="/b")
    assert [e.path for e in journal.entries()] == ["/a/2", "/a/3", "/a/4", "/b"]
    assert [e.seq for e in journal.entries()] == [3, 4, 5, 6]
    assert journal.count(namespace="ci") == 1  # a busy namespace never evicts another's
    assert journal.clear("default") == 3 and journal.count() == 1


def test_it_keeps_the_namespaces_written_to_most_recently() -> None:
    journal = Journal(size=2, namespaces=3)
    for ns in ("a", "b", "c", "a"):
        entry(journal, namespace=ns, path=f"/{ns}")
    entry(journal, namespace="d", path="/d")  # b was written to longest ago: it goes
    assert [e.namespace for e in journal.entries()] == ["a", "c", "a", "d"]
    assert journal.count(namespace="b") == 0


@pytest.mark.parametrize(("query", "paths"), [
    (Query(method="post"), ["/api/imports"]),
    (Query(path="/api/imports/1*"), ["/api/imports/1", "/api/imports/1"]),
    (Query(path="/api/imports/*"), ["/api/imports/1", "/api/imports/1", "/api/imports/2"]),
    (Query(status="4xx"), ["/api/imports/2"]),
    (Query(status="201"), ["/api/imports"]),
    (Query(status="none"), ["/broken"]),
    (Query(body="_interrupt"), ["/api/imports/1"]),
    (Query(namespace="other"), ["/elsewhere"]),
])
def test_filters(query: Query, paths: list[str]) -> None:
    journal = Journal()
    entry(journal, method="POST", path="/api/imports", status=201, body='{"data": {}}')
    entry(journal, path="/api/imports/1")
    entry(journal, method="PATCH", path="/api/imports/1", body='{"_interrupt": true}')
    entry(journal, path="/api/imports/2", status=404)
    entry(journal, path="/broken", status=None)
    entry(journal, namespace="other", path="/elsewhere")
    assert [e.path for e in journal.entries(query)] == paths


# ---- over HTTP -------------------------------------------------------------------------------


def test_a_client_test_can_assert_how_it_polled(jobs: Jobs, admin: Api, server: MockServer) -> None:
    job_id = jobs.create("imports")
    for _ in range(3):
        jobs.read("imports", job_id)
        server.clock.advance(1)
    body = {"data": {"type": "imports", "id": job_id, "attributes": {"_interrupt": True}}}
    assert jobs.cl.patch(f"/api/imports/{job_id}", json=body).status_code == 200
    polls = admin.get("/_mock/requests/count",
                      params={"method": "GET", "path": f"/api/imports/{job_id}"}).json()
    assert polls == {"count": 3}
    sent = admin.get("/_mock/requests", params={"body": "_interrupt"}).json()
    assert sent["count"] == 1
    patch = sent["requests"][0]
    assert patch["method"] == "PATCH" and patch["operation"] == "updateImport"
    assert patch["response"]["status"] == 200 and '"interrupted"' in patch["response"]["body"]
    assert patch["at"] == "2026-01-01T00:00:03.000Z" and patch["namespace"] == "default"
    assert patch["request"]["headers"]["Content-Type"] == "application/vnd.api+json"
    created = admin.get("/_mock/requests", params={"status": "201"}).json()["requests"]
    assert [e["operation"] for e in created] == ["createImport"]


@pytest.mark.parametrize("kind", ["imports", "rackspace_cleanups"])
def test_the_requests_that_touched_one_job(jobs: Jobs, admin: Api, kind: str) -> None:
    job_id, other = jobs.create(kind), jobs.create(kind)
    jobs.read(kind, job_id)
    jobs.read(kind, other)
    touched = admin.get("/_mock/requests", params={"job": job_id}).json()["requests"]
    assert [(e["method"], e["response"]["status"]) for e in touched] == [("POST", 201),
                                                                          ("GET", 200)]
    assert touched[1]["path"].endswith(f"/{job_id}")
    assert admin.get("/_mock/requests/count", params={"job": "nope"}).json() == {"count": 0}


def test_journal_is_bounded_by_its_configured_size() -> None:
    with served(journal_size=5) as (server, _):
        for i in range(8):
            requests.get(server.url + f"/api/imports?page[number]={i + 1}")  # 401s count too
        found = requests.get(server.url + "/_mock/requests").json()
        assert found["count"] == 5
        assert [e["query"] for e in found["requests"]] == [
            f"page[number]={i}" for i in range(4, 9)]
        assert {e["response"]["status"] for e in found["requests"]} == {401}
        assert server.app[JOURNAL].size == 5


def test_admin_calls_are_not_journaled_and_unknown_paths_are(admin: Api, server: MockServer) -> None:
    admin.get("/_mock/clock")
    admin.post("/_mock/clock", json={"advance": 1})
    requests.get(server.url + "/nowhere")
    found = admin.get("/_mock/requests").json()["requests"]
    assert [(e["path"], e["response"]["status"], e["operation"]) for e in found] == [
        ("/nowhere", 404, None)]


def test_newest_n_with_limit_and_namespace_scoping(jobs: Jobs, admin: Api,
                                                  server: MockServer) -> None:
    for _ in range(4):
        jobs.cl.get("/api/imports")
    other = Jobs(server, jobs.cl.checker, "ci-7")
    other.cl.get("/api/exports")
    newest = admin.get("/_mock/requests", params={"limit": 2}).json()
    assert newest["count"] == 5 and [e["seq"] for e in newest["requests"]] == [4, 5]
    mine = admin.get("/_mock/requests", headers={"X-Mock-Namespace": "ci-7"}).json()
    assert [e["path"] for e in mine["requests"]] == ["/api/exports"]
    cleared = admin.delete("/_mock/requests", params={"namespace": "ci-7"}).json()
    assert cleared == {"removed": 1}
    assert admin.get("/_mock/requests/count").json() == {"count": 4}
    assert admin.delete("/_mock/requests").json() == {"removed": 4}


def test_broken_connections_are_journaled_with_the_fault(admin: Api, server: MockServer) -> None:
    admin.post("/_mock/faults", json={"path": "/api/imports", "connection": "reset"})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url + "/api/imports")
    found = admin.get("/_mock/requests", params={"status": "none"}).json()["requests"]
    assert [(e["response"]["status"], e["fault"]) for e in found] == [(None, "f1:reset")]


@pytest.mark.parametrize("params", [{"status": "abc"}, {"limit": 0}, {"method": ""}])
def test_bad_filters_are_400(admin: Api, params: dict[str, Any]) -> None:
    r = admin.get("/_mock/requests", params=params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["source"]["parameter"] in params
