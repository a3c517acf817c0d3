"""Admin API under /_mock/: clock, reset, job view and advance, namespaces, and its own bad input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server import MockServer
from mock_server.keys import CONTROLS
from mock_server.timefmt import parse_duration

from .fixtures.http import JSONAPI, Api, make_token
from .fixtures.qa import KINDS, PROJECT, Jobs, served

ROOT = Path(__file__).resolve().parents[1]


def test_health(admin: Api) -> None:
    assert admin.get("/_mock/health").json() == {"status": "ok"}


def test_the_running_mock_serves_its_spec_naming_itself(server: MockServer) -> None:
    import schemathesis
    import yaml

    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    for suffix in ("yaml", "json"):
        r = requests.get(f"{server.url}/_mock/openapi.{suffix}", timeout=30)
        assert r.status_code == 200 and suffix in r.headers["Content-Type"]
        served = yaml.safe_load(r.text)  # YAML reads JSON too
        assert served["servers"] == [{"url": server.url, "description": "this mock"}]
        assert {**served, "servers": committed["servers"]} == committed
    schema = schemathesis.openapi.from_url(f"{server.url}/_mock/openapi.json")
    assert len(list(schema.get_all_operations())) == sum(
        len([m for m in item if m in ("get", "post", "patch", "delete")])
        for item in committed["paths"].values())


# ---- clock -----------------------------------------------------------------------------------


def test_clock_reads_and_moves(admin: Api) -> None:
    assert admin.get("/_mock/clock").json() == {
        "now": "2026-01-01T00:00:00.000Z", "epoch": 1767225600.0, "speed": 1.0, "frozen": True}
    assert admin.post("/_mock/clock", json={"advance": "PT1H30M"}).json()["now"] == \
        "2026-01-01T01:30:00.000Z"
    assert admin.post("/_mock/clock", json={"advance": 30}).json()["now"] == \
        "2026-01-01T01:30:30.000Z"
    state = admin.post("/_mock/clock", json={"set": "2026-01-02T00:00:00Z", "speed": 60}).json()
    assert state["now"] == "2026-01-02T00:00:00.000Z" and state["speed"] == 60
    assert admin.post("/_mock/clock", json={"resume": True}).json()["frozen"] is False
    assert admin.post("/_mock/clock", json={"freeze": True}).json()["frozen"] is True


@pytest.mark.parametrize(("body", "pointer"), [
    ({"set": "2025-01-01T00:00:00Z"}, "/set"),
    ({"set": "yesterday"}, "/set"),
    ({"advance": "P1M"}, "/advance"),
    ({"advance": -5}, "/advance"),
    ({"speed": 0}, "/speed"),
    ({"speed": 1e300}, "/speed"),
    ({"advance": 1e308}, "/advance"),
    ({"advance": 1e12}, "/advance"),
    ({"set": 1e308}, "/set"),
    ({"set": "9999-12-31T23:59:59Z"}, "/set"),
    ({"set": "3000-01-01T00:00:01Z"}, "/set"),
    ({"freeze": True, "resume": True}, "/resume"),
    ({}, "/"),
    ({"rewind": 5}, "/rewind"),
])
def test_bad_clock_changes_are_422_pointing_at_the_field(admin: Api, body: dict[str, Any],
                                                         pointer: str) -> None:
    r = admin.post("/_mock/clock", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["source"]["pointer"] == pointer
    assert admin.get("/_mock/clock").json()["now"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize("raw", ['{"speed": Infinity}', '{"speed": NaN}', '{"advance": 1e400}',
                                 '{"advance": -Infinity}'])
def test_clock_changes_that_are_not_json_are_400(admin: Api, raw: str) -> None:
    r = admin.post("/_mock/clock", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "not valid JSON" in r.json()["errors"][0]["detail"]  # and the answer is JSON


def test_the_clock_stops_at_its_latest_instant_and_jobs_still_work(jobs: Jobs,
                                                                   admin: Api) -> None:
    r = admin.post("/_mock/clock", json={"set": "3000-01-01T00:00:00Z", "speed": 1000000})
    assert r.status_code == 200 and r.json()["now"] == "3000-01-01T00:00:00.000Z"
    r = admin.post("/_mock/clock", json={"advance": 1})
    assert r.status_code == 422 and "3000-01-01" in r.json()["errors"][0]["detail"]
    for kind in KINDS:  # created at the last instant, they still plan, render and end
        job_id = jobs.create(kind, headers={"X-Mock-Scenario": "running=315360000"}
                             if kind != "rackspace_cleanups" else None)
        assert jobs.read(kind, job_id)["status"] in ("pending", "start_requested")
    assert admin.get("/_mock/clock").json()["now"] == "3000-01-01T00:00:00.000Z"
    assert admin.post("/_mock/reset", json={}).status_code == 200


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT1H30M", 5400), ("P1D", 86400), ("PT0.5S", 0.5), ("P1W", 604800), ("90", 90), (2.5, 2.5)])
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_every_job_moves_with_the_admin_clock(jobs: Jobs, admin: Api) -> None:
    ids = {kind: jobs.create(kind) for kind in KINDS}
    admin.post("/_mock/clock", json={"advance": "PT1M"})
    assert {k: jobs.read(k, i)["status"] for k, i in ids.items()} == dict.fromkeys(
        KINDS, "completed")


# ---- job view and advance --------------------------------------------------------------------


def test_job_view_shows_plan_scenario_and_transitions(jobs: Jobs, admin: Api,
                                                      server: MockServer) -> None:
    job_id = jobs.create("exports", headers={"X-Mock-Scenario": "fail_at=50"})
    server.clock.advance(1)
    view = admin.get(f"/_mock/jobs/exports/{job_id}").json()
    assert view["status"] == "in_progress" and view["tenant"] == ["cl", "acme", "test"]
    assert view["scenario"] == {"fail_at": 50.0} and view["plan"]["fail_at"] is not None
    assert [t["status"] for t in view["transitions"]] == ["pending", "in_progress"]
    r = admin.get(f"/_mock/jobs/exports/{job_id}", params={"namespace": "elsewhere"})
    assert r.status_code == 404
    assert admin.get("/_mock/jobs/exports/nope").status_code == 404
    assert admin.get(f"/_mock/jobs/orders/{job_id}").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_job_view_shows_the_job_as_its_api_does(jobs: Jobs, admin: Api, server: MockServer,
                                                kind: str) -> None:
    job_id = jobs.create(kind)
    server.clock.advance(1)
    # read through the admin API first: it applies what is due, as an API read would
    view = admin.get(f"/_mock/jobs/{kind}/{job_id}").json()
    api = jobs.read(kind, job_id)["raw"]
    assert view["attributes"] == api
    if kind == "rackspace_cleanups":
        listed = jobs.rs.get(f"/v2/{PROJECT}/cleanups/{job_id}/events").json()["events"]
        assert [e["name"] for e in view["events"]] == [e["event"] for e in listed]
    else:
        listed = jobs.cl.get(f"/api/{kind}/{job_id}/events").json()["data"]
        assert [(e["name"], e["at"]) for e in view["events"]] == \
            [(e["attributes"]["name"], e["attributes"]["created_at"]) for e in listed]
    assert [e["status"] for e in view["events"]] == [t["status"] for t in view["transitions"]]


def test_job_list_counts_errors_as_the_api_does(jobs: Jobs, admin: Api,
                                                server: MockServer) -> None:
    job_id = jobs.create("imports", headers={"X-Mock-Scenario": "error_rate=50%"})
    row = admin.get("/_mock/jobs").json()["jobs"][0]
    assert (row["id"], row["errors"]) == (job_id, 0)
    server.clock.advance(3600)
    row = admin.get("/_mock/jobs").json()["jobs"][0]  # no API read since: the list settles
    api = jobs.read("imports", job_id)["raw"]
    assert (row["status"], row["processed"], row["errors"], row["total"]) == \
        (api["status"], api["processed_count"], api["errors_count"], api["inputs_size"])
    assert row["errors"] > 0


@pytest.mark.parametrize(("kind", "path"), [
    ("imports", ["in_progress", "completed"]),
    ("exports", ["in_progress", "failed"]),
    ("cleanups", ["interrupted"]),
    ("rackspace_cleanups", ["queued", "in_progress", "stop_requested", "stopped"]),
    ("rackspace_cleanups", ["completed_with_errors"]),
    ("rackspace_cleanups", ["in_progress", "failed"]),
])
def test_advance_moves_one_job_now_and_keeps_it_there(jobs: Jobs, admin: Api, server: MockServer,
                                                      kind: str, path: list[str]) -> None:
    job_id = jobs.create(kind)
    bystander = jobs.create(kind)
    for target in path:
        r = admin.post(f"/_mock/jobs/{kind}/{job_id}/advance", json={"to": target})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target == jobs.read(kind, job_id)["status"]
    server.clock.advance(3600)
    assert jobs.read(kind, job_id)["status"] == path[-1]
    assert jobs.read(kind, bystander)["status"] == "completed"


def test_completing_now_reports_every_item(jobs: Jobs, admin: Api) -> None:
    job_id = jobs.create("imports")
    admin.post(f"/_mock/jobs/imports/{job_id}/advance", json={"to": "completed"})
    seen = jobs.read("imports", job_id)
    assert seen["handled"] == seen["total"] and seen["raw"]["completed_at"] is not None


@pytest.mark.parametrize(("setup", "target", "status", "words"), [
    ("in_progress", "pending", 409, "cannot go back"),
    ("completed", "in_progress", 409, "already completed"),
    (None, "failed", 422, "not a status"),
    (None, "exploded", 422, "not a status"),
])
def test_advance_refuses_what_cannot_happen(jobs: Jobs, admin: Api, setup: str | None,
                                            target: str, status: int, words: str) -> None:
    job_id = jobs.create("imports")
    if setup:
        admin.post(f"/_mock/jobs/imports/{job_id}/advance", json={"to": setup})
    r = admin.post(f"/_mock/jobs/imports/{job_id}/advance", json={"to": target})
    assert r.status_code == status and words in r.json()["errors"][0]["detail"]


# ---- reset and namespaces --------------------------------------------------------------------


def test_reset_one_namespace_or_everything(server: MockServer, admin: Api, jobs: Jobs) -> None:
    other = Jobs(server, jobs.cl.checker, "ci-2")
    jobs.create("imports")
    other.create("imports")
    admin.post("/_mock/faults", json={"path": "/x", "status": 500, "namespace": "ci-2"})
    r = admin.post("/_mock/reset", json={"namespace": "ci-2"}).json()
    assert r == {"namespace": "ci-2", "tenants": 1, "faults": 1, "requests": 1}
    assert other.cl.get("/api/imports").json()["meta"]["record_count"] == 0
    assert jobs.cl.get("/api/imports").json()["meta"]["record_count"] == 1
    r = admin.post("/_mock/reset", headers={"X-Mock-Namespace": "default"}).json()
    assert r["namespace"] == "default" and r["tenants"] == 1
    assert jobs.cl.get("/api/imports").json()["meta"]["record_count"] == 0
    everything = admin.post("/_mock/reset").json()
    assert everything["namespace"] is None and everything["tenants"] >= 2


def test_a_reset_never_hands_out_an_id_again(jobs: Jobs, admin: Api) -> None:
    """Client caches keyed by id must never see a new job under an old id."""
    first = {kind: jobs.create(kind) for kind in KINDS}
    admin.post("/_mock/reset", json={"namespace": "default"})
    again = {kind: jobs.create(kind) for kind in KINDS}
    admin.post("/_mock/reset")
    third = {kind: jobs.create(kind) for kind in KINDS}
    ids = [*first.values(), *again.values(), *third.values()]
    assert len(set(ids)) == len(ids), (first, again, third)


def test_the_same_requests_on_two_fresh_servers_give_the_same_ids() -> None:
    def run() -> list[str]:
        with served() as (srv, checker):
            out = []
            for ns in ("default", "ci-1", "default"):
                made = Jobs(srv, checker, ns)
                out += [made.create(kind) for kind in KINDS]
                Api(srv.url, checker, {"Content-Type": "application/json"}).post(
                    "/_mock/reset", json={"namespace": ns})
            return out

    first = run()
    assert first == run() and len(set(first)) == len(first)


def test_namespaces_stay_isolated_under_concurrent_use(server: MockServer) -> None:
    workers = 8
    start = threading.Barrier(workers)

    def work(i: int) -> dict[str, Any]:
        ns = f"ci-{i}"
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI,
                          "Content-Type": JSONAPI, "X-Mock-Namespace": ns})
        start.wait()
        rule = s.post(server.url + "/_mock/faults", json={"path": "/api/exports",
                                                          "status": 500 + i},
                      headers={"Content-Type": "application/json"})
        created = []
        for n in range(i + 1):
            body = {"data": {"type": "imports", "attributes": {
                "resource_type": "skus", "reference": ns,
                "inputs": [{"code": f"{ns}-{n}", "name": "x"}]}}}
            created.append(s.post(server.url + "/api/imports", json=body).json()["data"]["id"])
        listed = s.get(server.url + "/api/imports?page[size]=25").json()["data"]
        faulted = s.get(server.url + "/api/exports").status_code
        journaled = s.get(server.url + "/_mock/requests/count").json()["count"]
        if i == 0:
            s.post(server.url + "/_mock/reset", json={}, headers={"Content-Type": "application/json"})
        return {"rule": rule.status_code, "created": created, "faulted": faulted,
                "listed": [(d["id"], d["attributes"]["reference"]) for d in listed],
                "journaled": journaled}

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(work, range(workers)))
    for i, res in enumerate(results):
        ns = f"ci-{i}"
        assert res["rule"] == 201 and res["faulted"] == 500 + i
        assert sorted(res["listed"]) == sorted((job_id, ns) for job_id in res["created"])
        assert res["journaled"] == (i + 1) + 2  # its creates, its list, its faulted GET
    survivors = server.app[CONTROLS].job("imports", results[3]["created"][0], "ci-3")
    assert survivors["namespace"] == "ci-3"
    with pytest.raises(Exception, match="No imports job"):
        server.app[CONTROLS].job("imports", results[0]["created"][0], "ci-0")


def test_python_api_speaks_the_same_words(server: MockServer, jobs: Jobs) -> None:
    controls = server.app[CONTROLS]
    job_id = jobs.create("cleanups")
    assert controls.set_clock(advance="PT0.5S")["now"] == "2026-01-01T00:00:00.500Z"
    assert controls.advance("cleanups", job_id, "in_progress")["status"] == "in_progress"
    assert controls.scenario("cleanups", job_id, "stall")["plan"]["stall_at"] is not None
    assert controls.reset("default")["tenants"] == 1


# ---- the admin API's own bad input -----------------------------------------------------------


def test_admin_bad_input_is_clear_4xx_in_json_api(server: MockServer, admin: Api) -> None:
    r = admin.post("/_mock/clock", data=b"{not json")
    assert r.status_code == 400 and r.json()["errors"][0]["title"] == "Malformed JSON"
    r = admin.post("/_mock/clock", data=b"advance=5",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = admin.post("/_mock/jobs/imports/x/scenario", json={"fail_at": True})
    assert r.status_code == 422 and r.json()["errors"][0]["source"]["pointer"] == "/fail_at"
    r = requests.put(server.url + "/_mock/clock", json={})
    assert r.status_code == 405 and r.headers["Content-Type"].startswith(JSONAPI)
    assert set(r.headers["Allow"].split(",")) == {"GET", "POST"}
    r = requests.get(server.url + "/_mock/nothing-here")
    assert r.status_code == 404 and r.json()["errors"][0]["status"] == "404"


def test_config_errors_name_the_file_and_key() -> None:
    from mock_server.settings import ConfigError

    with pytest.raises(ConfigError, match=r"test-config.yaml: rules\[0\]: each rule is"):
        with served({"rules": [{"when": {}}]}):
            pass  # pragma: no cover
