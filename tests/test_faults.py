"""Fault rules: latency, injected errors, broken connections and custom limits; seeded, per namespace."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
import requests

from mock_server import MockServer
from mock_server.keys import FAULTS, JOURNAL
from mock_server.qa.faults import FaultError, FaultRule, FaultSet
from mock_server.settings import ConfigError

from .fixtures.http import JSONAPI, Api, make_token
from .fixtures.qa import served

CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}
RS = {"X-Auth-Token": "t", "Accept": "application/json", "Content-Type": "application/json"}
IMPORT = {"data": {"type": "imports", "attributes": {"resource_type": "skus",
                                                     "inputs": [{"code": "A", "name": "a"}]}}}


def vendor(server: MockServer) -> requests.Session:
    """An unchecked client: injected statuses are outside the vendor contract on purpose."""
    s = requests.Session()
    s.headers.update(CL)
    return s


def add(admin: Api, **rule: Any) -> dict[str, Any]:
    r = admin.post("/_mock/faults", json=rule)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# ---- rules as values -------------------------------------------------------------------------


def test_rule_shapes_parse_and_show_normalised() -> None:
    rule = FaultRule.from_dict({"path": "/api/exports*", "method": "get", "latency": 0.2,
                                "error": {"status": 503, "retry_after": 5}, "probability": 0.5})
    assert rule.methods == ("GET",) and rule.status == 503 and rule.retry_after == 5
    shown = rule.as_dict()
    assert shown["latency"] == {"kind": "fixed", "seconds": 0.2} and shown["methods"] == ["GET"]
    limit = FaultRule.from_dict({"limit": {"requests": 3, "interval": 10}, "per": "endpoint"})
    assert limit.limit is not None and limit.limit.limit == 3 and limit.per_endpoint


@pytest.mark.parametrize(("body", "key"), [
    ({"status": 200}, "status"),
    ({"latency": {"kind": "gaussian"}}, "latency"),
    ({"latency": {"kind": "uniform", "min": 2, "max": 1}}, "latency.max"),
    ({"connection": "explode"}, "connection"),
    ({"status": 500, "connection": "reset"}, "connection"),
    ({"path": "/api/*"}, ""),
    ({"status": 500, "probability": 1.5}, "probability"),
    ({"limit": {"requests": 0, "interval": 1}}, "limit.requests"),
    ({"status": 500, "colour": "red"}, "colour"),
])
def test_bad_rules_name_the_key(body: dict[str, Any], key: str) -> None:
    with pytest.raises(FaultError) as err:
        FaultRule.from_dict(body)
    assert err.value.key == key


def test_latency_kinds_sample_their_distribution() -> None:
    faults = FaultSet(seed=1)
    for rule in ({"latency": {"kind": "uniform", "min": 0.1, "max": 0.3}},
                 {"latency": {"kind": "lognormal", "median": 0.2, "sigma": 0.4}}):
        faults.clear()
        faults.add(rule)
        delays = [faults.decide("default", "GET", "/x", "GET /x", 0.0).delay for _ in range(2000)]
        if "min" in rule["latency"]:
            assert 0.1 <= min(delays) and max(delays) <= 0.3
        else:
            assert 0.18 < statistics.median(delays) < 0.22 and max(delays) > 0.4


def test_seeded_decisions_repeat_and_depend_on_the_seed() -> None:
    def run(seed: int) -> list[tuple[float, bool]]:
        faults = FaultSet(seed)
        faults.add({"status": 503, "probability": 0.4,
                    "latency": {"kind": "lognormal", "median": 0.1, "sigma": 1}})
        out = []
        for _ in range(50):
            d = faults.decide("default", "GET", "/api/imports", "GET /api/imports", 0.0)
            out.append((d.delay, d.rule is not None))
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)
    hits = sum(fired for _, fired in run(7))
    assert 10 < hits < 30


# ---- over HTTP -------------------------------------------------------------------------------


def test_seeded_faults_reproduce_the_same_sequence_on_two_runs() -> None:
    def run() -> list[Any]:
        config = {"faults": [{"path": "/api/*", "latency": {"kind": "uniform", "min": 0,
                                                            "max": 0.004}},
                             {"path": "/api/imports", "status": 502, "probability": 0.3}]}
        with served(config) as (server, _):
            s = vendor(server)
            statuses = [s.get(server.url + "/api/imports").status_code for _ in range(40)]
            notes = [e.fault for e in server.app[JOURNAL].entries()]
            return [statuses, notes]

    first, second = run(), run()
    assert first == second
    assert 502 in first[0] and 200 in first[0]
    assert all(note.startswith("f1:latency=") for note in first[1])
    assert sum("f2:status=502" in note for note in first[1]) == first[0].count(502)


def test_injected_errors_speak_each_vendors_dialect(server: MockServer, admin: Api) -> None:
    add(admin, path="/api/imports", status=503)
    add(admin, path="/v2/*", status=502, message="upstream down")
    r = vendor(server).get(server.url + "/api/imports")
    assert r.status_code == 503 and r.headers["Content-Type"].startswith(JSONAPI)
    assert r.headers["Retry-After"] == "1" and r.headers["X-Mock-Fault"] == "f1"
    err = r.json()["errors"][0]
    assert err["status"] == "503" and err["code"] == "SERVICE_UNAVAILABLE"
    r = requests.get(server.url + "/v2/123456/cleanups", headers=RS)
    assert r.status_code == 502 and r.json() == {"message": "upstream down"}
    assert "Retry-After" not in r.headers


def test_retry_after_and_times_make_a_retry_test(server: MockServer, admin: Api) -> None:
    add(admin, path="/api/imports", method="POST", status=503, retry_after=7, times=2)
    s = vendor(server)
    answers = [s.post(server.url + "/api/imports", json=IMPORT) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].headers["Retry-After"] == "7"
    assert s.get(server.url + "/api/imports").json()["meta"]["record_count"] == 1
    assert admin.get("/_mock/faults").json()["rules"][0]["hits"] == 2


def test_fixed_latency_slows_only_matching_requests(server: MockServer, admin: Api) -> None:
    add(admin, path="/api/exports", latency=0.15)
    s = vendor(server)
    started = time.monotonic()
    assert s.get(server.url + "/api/exports").status_code == 200
    assert time.monotonic() - started >= 0.15
    assert s.get(server.url + "/api/imports").status_code == 200
    # no wall-clock upper bound (a loaded CI machine is slow): the rule fired for exports only
    assert admin.get("/_mock/faults").json()["rules"][0]["hits"] == 1


@pytest.mark.parametrize(("kind", "error"), [
    ("reset", "Connection reset"),
    ("empty", "closed connection without response"),
    ("truncated", "IncompleteRead"),
    ("delay_then_close", "closed connection without response"),
])
def test_connection_faults_break_the_connection(server: MockServer, admin: Api, kind: str,
                                                error: str) -> None:
    add(admin, path="/api/imports", connection=kind, delay=0.1, times=1)
    s = vendor(server)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.RequestException, match=error):
        s.get(server.url + "/api/imports")
    if kind == "delay_then_close":
        assert time.monotonic() - started >= 0.1
    assert s.get(server.url + "/api/imports").status_code == 200  # times=1: the next one works


def test_processed_connection_fault_loses_the_answer_not_the_work(server: MockServer,
                                                                  admin: Api) -> None:
    add(admin, path="/api/imports", method="POST", connection="empty", processed=True, times=1)
    s = vendor(server)
    with pytest.raises(requests.exceptions.ConnectionError):
        s.post(server.url + "/api/imports", json=IMPORT)
    assert s.get(server.url + "/api/imports").json()["meta"]["record_count"] == 1


def test_custom_limit_rule_counts_on_the_virtual_clock(server: MockServer, admin: Api) -> None:
    add(admin, path="/api/*", method="GET", limit={"requests": 2, "interval": 10}, per="endpoint")
    s = vendor(server)
    assert [s.get(server.url + "/api/imports").status_code for _ in range(3)] == [200, 200, 429]
    assert s.get(server.url + "/api/exports").status_code == 200  # another endpoint
    limited = s.get(server.url + "/api/imports")
    assert limited.headers["X-Ratelimit-Limit"] == "2" and limited.headers["Retry-After"] == "10"
    assert limited.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    server.clock.advance(10)
    assert s.get(server.url + "/api/imports").status_code == 200


def test_namespace_rules_stay_private(server: MockServer, admin: Api) -> None:
    add(admin, path="/api/*", status=500, namespace="ci-1")
    r = admin.post("/_mock/faults", json={"path": "/api/exports", "status": 502},
                   headers={"X-Mock-Namespace": "ci-2"})
    assert r.status_code == 201 and r.json()["namespace"] == "ci-2"
    s = vendor(server)
    url = server.url + "/api/exports"
    assert s.get(url, headers={"X-Mock-Namespace": "ci-1"}).status_code == 500
    assert s.get(url, headers={"X-Mock-Namespace": "ci-2"}).status_code == 502
    assert s.get(url).status_code == 200
    assert [r["id"] for r in admin.get("/_mock/faults?namespace=ci-2").json()["rules"]] == ["f2"]
    assert admin.delete("/_mock/faults", params={"namespace": "ci-1"}).json() == {"removed": 1}
    assert s.get(url, headers={"X-Mock-Namespace": "ci-1"}).status_code == 200


def test_admin_api_is_never_faulted(server: MockServer, admin: Api) -> None:
    add(admin, path="*", status=500)
    add(admin, path="*", connection="reset")
    assert admin.get("/_mock/clock").status_code == 200
    assert vendor(server).get(server.url + "/api/imports").status_code == 500


def test_rules_are_listed_removed_and_cleared(admin: Api) -> None:
    first = add(admin, path="/api/imports", status=500, name="boom")
    add(admin, path="/api/exports", latency={"kind": "lognormal", "median": 0.01, "sigma": 0.2})
    listed = admin.get("/_mock/faults").json()["rules"]
    assert [(r["id"], r.get("name"), r["hits"]) for r in listed] == [
        ("f1", "boom", 0), ("f2", None, 0)]
    assert admin.delete(f"/_mock/faults/{first['id']}").json() == {"removed": 1}
    r = admin.delete(f"/_mock/faults/{first['id']}")
    assert r.status_code == 404 and r.json()["errors"][0]["source"] == {"parameter": "faultId"}
    assert admin.delete("/_mock/faults").json() == {"removed": 1}
    assert admin.get("/_mock/faults").json()["rules"] == []


def test_bad_rule_over_http_is_422_pointing_at_the_key(admin: Api) -> None:
    r = admin.post("/_mock/faults", json={"status": 503, "connection": "reset"})
    assert r.status_code == 422 and r.json()["errors"][0]["source"]["pointer"] == "/connection"
    r = admin.post("/_mock/faults", json={"status": "503"})  # the spec's schema says integer
    assert r.status_code == 422 and r.json()["errors"][0]["source"]["pointer"] == "/status"


def test_configured_faults_apply_from_start_and_come_back_after_reset() -> None:
    with served({"faults": [{"path": "/api/imports", "status": 500}]}) as (server, _):
        url = server.url + "/api/imports"
        s = vendor(server)
        assert s.get(url).status_code == 500
        server.app[FAULTS].clear()  # the Python API: same words as DELETE /_mock/faults
        assert len(server.app[FAULTS].list()) == 1  # clearing everything re-arms the config
        server.app[FAULTS].remove("f1")
        assert s.get(url).status_code == 200
        assert requests.post(server.url + "/_mock/reset", json={}).status_code == 200
        assert s.get(url).status_code == 500


def test_bad_fault_config_names_file_and_key() -> None:
    with pytest.raises(ConfigError, match=r"test-config.yaml: faults\[1\].latency.max"):
        with served({"faults": [{"status": 500},
                                {"latency": {"kind": "uniform", "min": 1, "max": 0}}]}):
            pass  # pragma: no cover
