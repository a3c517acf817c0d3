"""Job scenarios: every kind, through every way to attach it, on every job type, over virtual time."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server import MockServer
from mock_server.keys import CONTROLS
from mock_server.scenarios.book import ScenarioBook
from mock_server.scenarios.scenario import Scenario, ScenarioError, parse
from mock_server.settings import ConfigError

from .fixtures.conformance import ResponseChecker
from .fixtures.qa import CL_KINDS, Jobs, served

RS = "rackspace_cleanups"
BASE = {k: "pending=1;running=10" for k in CL_KINDS} | {RS: "pending=1;queued=1;running=10"}

# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("fail_at=50", Scenario(fail_at=50.0)),
    ("fail_at=50%;interrupt_at=30", Scenario(fail_at=50.0, interrupt_at=30.0)),
    ("interrupt_at=in_progress", Scenario(interrupt_at="in_progress")),
    ("error_rate=0.2", Scenario(error_rate=0.2)),
    ("error_rate=15%", Scenario(error_rate=0.15)),
    ("stall", Scenario(stall=0.0)),
    ("stall=40", Scenario(stall=40.0)),
    ("pending=5;running=60", Scenario(durations=(("pending", 5.0), ("running", 60.0)))),
    ("outcome=completed_with_errors", Scenario(outcome="completed_with_errors")),
    ('{"fail_at": 20, "durations": {"running": 30}}',
     Scenario(fail_at=20.0, durations=(("running", 30.0),))),
    (" fail_at = 10 ; ; ", Scenario(fail_at=10.0)),
])
def test_header_and_json_forms_parse(text: str, expected: Scenario) -> None:
    assert parse(text) == expected


def test_objects_presets_and_spec_strings_merge_later_wins() -> None:
    presets = {"slow": parse("pending=30;running=600")}
    sc = parse({"preset": "slow", "spec": "fail_at=10", "fail_at": 20}, presets)
    assert sc == Scenario(fail_at=20.0, durations=(("pending", 30.0), ("running", 600.0)))
    assert parse("slow;interrupt_at=5", presets).durations == presets["slow"].durations


@pytest.mark.parametrize(("value", "key", "words"), [
    ("fail_at=150", "fail_at", "between 0 and 100"),
    ("error_rate=2", "error_rate", "share between 0 and 1"),
    ("interrupt_at=sometime", "interrupt_at", "stage name"),
    ("bogus=1", "bogus", "unknown scenario key"),
    ("nosuchpreset", "nosuchpreset", "unknown scenario preset"),
    ({"durations": {"running": -1}}, "durations.running", "from 0 to"),
    ({"durations": {"running": 1e300}}, "durations.running", "ten years"),
    ({"durations": {"lunch": 1}}, "durations.lunch", "unknown stage"),
    ("{not json", None, "malformed"),
    (42, None, "a scenario is a string"),
])
def test_bad_scenarios_name_the_key(value: Any, key: str | None, words: str) -> None:
    with pytest.raises(ScenarioError, match=words) as err:
        parse(value)
    assert err.value.key == key


def test_config_sections_parse_and_errors_name_file_and_key() -> None:
    book = ScenarioBook.from_config({
        "scenarios": {"flaky": "error_rate=20%"},
        "rules": [{"match": {"type": "exports", "resource_type": "orders"}, "scenario": "fail_at=30"},
                  {"match": {"reference": "qa-*"}, "scenario": {"preset": "flaky"}}],
    }, "qa.yaml")
    assert book.for_job("exports", {"resource_type": "orders"}) == Scenario(fail_at=30.0)
    assert book.for_job("exports", {"resource_type": "skus"}).empty
    assert book.for_job("imports", {"reference": "qa-7"}) == Scenario(error_rate=0.2)
    with pytest.raises(ConfigError, match=r"qa.yaml: rules\[0\]: match.type: unknown job type"):
        ScenarioBook.from_config({"rules": [{"match": {"type": "orders"}, "scenario": "stall"}]},
                                 "qa.yaml")
    with pytest.raises(ConfigError, match=r"qa.yaml: scenarios.bad: fail_at"):
        ScenarioBook.from_config({"scenarios": {"bad": "fail_at=x"}}, "qa.yaml")


# ---- every kind × every attach method × every job type, over virtual time ---------------------

Step = tuple[float | Callable[[int], float], str, Callable[[int], int] | None]


def half(n: int) -> int:
    return n // 2


def quarter(n: int) -> int:
    return n // 4


def none(n: int) -> int:
    return 0


def everything(n: int) -> int:
    return n


def auto_interrupt(n: int) -> int:
    """Items handled when errors (every 2nd item) first exceed 10% of n (the vendor's rule)."""
    return next(h for h in range(1, n + 1) if h // 2 > n / 10)


def auto_interrupt_at(n: int) -> float:
    return 1 + 10 * auto_interrupt(n) / n


CL_INTERRUPTED: list[Step] = [(3.4, "in_progress", None), (3.5, "interrupted", quarter),
                              (100, "interrupted", quarter)]
CASES: dict[str, tuple[str, dict[str, list[Step]]]] = {
    "fail_at": ("fail_at=50", {
        "exports": [(5.9, "in_progress", None), (6.0, "failed", half), (100, "failed", half)],
        RS: [(6.9, "in_progress", None), (7.0, "failed", None), (100, "failed", None)],
    }),
    "interrupt_at_percent": ("interrupt_at=25", {
        **{k: CL_INTERRUPTED for k in CL_KINDS},
        RS: [(4.4, "in_progress", None), (4.5, "stop_requested", None),
             (5.5, "stopped", None), (100, "stopped", None)],
    }),
    "interrupt_at_stage": ("interrupt_at=in_progress", {
        **{k: [(0.9, "pending", none), (1.0, "interrupted", none), (100, "interrupted", none)]
           for k in CL_KINDS},
        RS: [(1.9, "queued", None), (2.0, "stop_requested", None), (3.0, "stopped", None)],
    }),
    "error_rate": ("error_rate=0.5", {
        **{k: [(lambda n: auto_interrupt_at(n) - 0.05, "in_progress", None),
               (auto_interrupt_at, "interrupted", auto_interrupt),
               (100, "interrupted", auto_interrupt)] for k in ("imports", "cleanups")},
        RS: [(11.9, "in_progress", None), (12.0, "completed_with_errors", None)],
    }),
    "stall": ("stall=50", {
        **{k: [(6.0, "in_progress", half), (500, "in_progress", half), (500, "release", None),
               (504.9, "in_progress", None), (505, "completed", everything)] for k in CL_KINDS},
        RS: [(7.0, "in_progress", None), (500, "in_progress", None), (500, "release", None),
             (504.9, "in_progress", None), (505, "completed", None)],
    }),
    "durations": ("pending=5;running=10", {
        **{k: [(4.9, "pending", none), (5.0, "in_progress", none), (10.0, "in_progress", half),
               (15.0, "completed", everything)] for k in CL_KINDS},
        RS: [(4.9, "start_requested", None), (5.0, "queued", None), (6.0, "in_progress", None),
             (15.9, "in_progress", None), (16.0, "completed", None)],
    }),
    "outcome": ("outcome=completed_with_errors", {
        RS: [(11.9, "in_progress", None), (12.0, "completed_with_errors", None)],
    }),
}
METHODS = ("header", "metadata", "admin", "python", "rule")
MATRIX = [(case, kind, method) for case, (_, timelines) in CASES.items() for kind in timelines
          for method in METHODS if not (method == "metadata" and kind == RS)]
_namespaces = itertools.count(1)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[MockServer, ResponseChecker]]:
    """One server for the matrix; each case works in its own namespace."""
    with served() as both:
        yield both


def _create(method: str, server: MockServer, jobs: Jobs, kind: str, spec: str) -> str:
    if method == "header":
        return jobs.create(kind, headers={"X-Mock-Scenario": spec})
    if method == "metadata":
        return jobs.create(kind, metadata={"mock_scenario": spec})
    if method == "rule":
        return jobs.create(kind) if kind == RS else jobs.create(kind, reference="qa-1")
    job_id = jobs.create(kind)
    if method == "admin":
        r = jobs.cl.post(f"/_mock/jobs/{kind}/{job_id}/scenario", json={"spec": spec},
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
    else:
        server.app[CONTROLS].scenario(kind, job_id, spec, namespace=jobs.namespace)
    return job_id


def _release(method: str, server: MockServer, jobs: Jobs, kind: str, job_id: str) -> None:
    if method == "python":
        server.app[CONTROLS].scenario(kind, job_id, {}, namespace=jobs.namespace, release=True)
    else:
        r = jobs.cl.post(f"/_mock/jobs/{kind}/{job_id}/scenario", json={"release": True},
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text


def _play(server: MockServer, jobs: Jobs, kind: str, job_id: str, steps: list[Step],
          method: str) -> None:
    t0 = server.clock.now()
    total = jobs.read(kind, job_id)["total"]
    for at, status, handled in steps:
        offset = at(total) if callable(at) else at
        if server.clock.now() < t0 + offset:
            server.clock.set(t0 + offset)
        if status == "release":
            _release(method, server, jobs, kind, job_id)
            continue
        seen = jobs.read(kind, job_id)
        where = f"{kind} at +{offset:g}s"
        assert seen["status"] == status, f"{where}: {seen['raw']}"
        if handled is not None:
            assert seen["handled"] == handled(total), f"{where}: {seen['raw']}"


@pytest.mark.parametrize(("case", "kind", "method"), MATRIX)
def test_scenario_kind_through_attach_method_on_job_type(
        case: str, kind: str, method: str, shared: tuple[MockServer, ResponseChecker]) -> None:
    tail, timelines = CASES[case]
    spec = f"{BASE[kind]};{tail}"
    if method == "rule":
        match = {"type": kind} if kind == RS else {"type": kind, "reference": "qa-*"}
        with served({"rules": [{"match": match, "scenario": spec}]}) as (server, checker):
            jobs = Jobs(server, checker)
            _play(server, jobs, kind, _create(method, server, jobs, kind, spec), timelines[kind],
                  method)
        return
    server, checker = shared
    jobs = Jobs(server, checker, f"scenario-{next(_namespaces)}")
    _play(server, jobs, kind, _create(method, server, jobs, kind, spec), timelines[kind], method)
    assert not checker.problems, checker.problems


def test_export_failure_shows_the_vendor_errors_log(jobs: Jobs, server: MockServer) -> None:
    job_id = jobs.create("exports", headers={"X-Mock-Scenario": "fail_at=30"})
    server.clock.advance(3600)
    a = jobs.read("exports", job_id)["raw"]
    assert a["status"] == "failed" and a["errors_log"] == {"RuntimeError": "query timeout"}
    other = jobs.create("exports", metadata={"mock_scenario": {"fail_at": 0,
                                                               "fail_message": "disk full"}})
    server.clock.advance(3600)
    assert jobs.read("exports", other)["raw"]["errors_log"] == {"RuntimeError": "disk full"}


def test_import_error_rate_fills_errors_log_and_skip_errors_lets_it_finish(
        jobs: Jobs, server: MockServer) -> None:
    job_id = jobs.create("imports", headers={"X-Mock-Scenario": "error_rate=25%"},
                         skip_errors=True)
    server.clock.advance(3600)
    a = jobs.read("imports", job_id)["raw"]
    assert a["status"] == "completed"
    assert a["errors_count"] == 5 and a["processed_count"] == 15
    assert sorted(a["errors_log"]) == ["SKU11", "SKU15", "SKU19", "SKU3", "SKU7"]
    assert all(isinstance(v, dict) and v for v in a["errors_log"].values())


def test_error_rate_keeps_the_real_item_errors(jobs: Jobs, server: MockServer) -> None:
    """A scenario's errors come on top of the items' own: an invalid item is still reported."""
    inputs = [{"code": f"SKU{i}", "name": "" if i == 4 else f"Shirt {i}"} for i in range(20)]
    job_id = jobs.create("imports", headers={"X-Mock-Scenario": "error_rate=10%"},
                         skip_errors=True, inputs=inputs)
    server.clock.advance(3600)
    a = jobs.read("imports", job_id)["raw"]
    assert a["status"] == "completed"
    assert a["errors_log"]["SKU4"] == {"name": ["can't be blank"]}
    assert a["errors_count"] == 3 and a["processed_count"] == 17  # items 10 and 20 + SKU4
    assert sorted(a["errors_log"]) == ["SKU19", "SKU4", "SKU9"]


def test_rules_match_only_the_jobs_they_name() -> None:
    config = {"rules": [{"match": {"type": "exports", "resource_type": "skus",
                                   "reference": "nightly-*"}, "scenario": "fail_at=30"}]}
    with served(config) as (server, checker):
        jobs = Jobs(server, checker)
        hit = jobs.create("exports", reference="nightly-1")
        miss = jobs.create("exports", reference="manual")
        other = jobs.create("imports", reference="nightly-1")
        server.clock.advance(3600)
        assert jobs.read("exports", hit)["status"] == "failed"
        assert jobs.read("exports", miss)["status"] == "completed"
        assert jobs.read("imports", other)["status"] == "completed"


def test_header_overrides_metadata_which_overrides_rules() -> None:
    config = {"rules": [{"match": {"type": "imports"}, "scenario": "interrupt_at=10"}]}
    with served(config) as (server, checker):
        jobs = Jobs(server, checker)
        job_id = jobs.create("imports", headers={"X-Mock-Scenario": "interrupt_at=75"},
                             metadata={"mock_scenario": "interrupt_at=50"})
        server.clock.advance(3600)
        assert jobs.read("imports", job_id)["handled"] == 15


@pytest.mark.parametrize(("kind", "spec", "words"), [
    ("imports", "fail_at=50", "no failed status"),
    ("cleanups", "fail_at=50", "no failed status"),
    ("exports", "error_rate=0.1", "no per-item errors"),
    ("imports", "outcome=completed_with_errors", "can end the work as completed"),
    ("exports", "queued=3", "not a stage"),
])
def test_scenarios_a_type_cannot_do_are_422_and_nothing_is_created(
        jobs: Jobs, kind: str, spec: str, words: str) -> None:
    for how in ({"headers": {"X-Mock-Scenario": spec}}, {"metadata": {"mock_scenario": spec}}):
        r = jobs.create_response(kind, **how)  # type: ignore[arg-type]
        assert r.status_code == 422, r.text
        assert words in r.json()["errors"][0]["detail"]
    assert jobs.cl.get(f"/api/{kind}").json()["meta"]["record_count"] == 0


def test_unreadable_header_is_400_naming_it_and_metadata_422_pointing_at_it(jobs: Jobs) -> None:
    r = jobs.create_response("imports", headers={"X-Mock-Scenario": "fail_at=lots"})
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["source"] == {"parameter": "X-Mock-Scenario"} and "fail_at" in err["detail"]
    r = jobs.create_response("imports", metadata={"mock_scenario": {"stall": "soon"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["source"]["pointer"] == "/data/attributes/metadata/mock_scenario/stall"


def test_a_scenario_the_job_cannot_take_points_at_where_it_came_from(jobs: Jobs) -> None:
    r = jobs.create_response("imports", headers={"X-Mock-Scenario": "fail_at=50"})
    assert r.status_code == 422  # imports cannot fail: the header said so, not an attribute
    err = r.json()["errors"][0]
    assert err["source"] == {"parameter": "X-Mock-Scenario"} and "fail_at" in err["detail"]
    r = jobs.create_response("imports", metadata={"mock_scenario": {"fail_at": 50}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["source"] == {
        "pointer": "/data/attributes/metadata/mock_scenario/fail_at"}


def test_rackspace_bad_scenario_is_a_400_in_its_own_dialect(jobs: Jobs) -> None:
    r = jobs.create_response(RS, headers={"X-Mock-Scenario": "outcome=failed"})
    assert r.status_code == 400
    body = r.json()
    assert body["message"] == "Validation failed." and "fail_at" in body["errors"][0]


def test_a_scenario_never_rewrites_the_past(jobs: Jobs, server: MockServer, admin: Any) -> None:
    job_id = jobs.create("imports", headers={"X-Mock-Scenario": "pending=1;running=10"})
    server.clock.advance(6)  # half done
    r = admin.post(f"/_mock/jobs/imports/{job_id}/scenario", json={"fail_at": 10})
    assert r.status_code == 422  # imports cannot fail at all
    r = admin.post(f"/_mock/jobs/imports/{job_id}/scenario", json={"interrupt_at": 10})
    assert r.status_code == 200  # 10 % is behind us: interrupted now, at 50 %
    assert r.json()["status"] == "interrupted" and r.json()["processed"] == 10
    r = admin.post(f"/_mock/jobs/imports/{job_id}/scenario", json={"stall": True})
    assert r.status_code == 409 and "already interrupted" in r.json()["errors"][0]["detail"]
    other = jobs.create("imports")
    server.clock.advance(1.5)
    r = admin.post(f"/_mock/jobs/imports/{other}/scenario", json={"durations": {"running": 99}})
    assert r.status_code == 409 and "running time" in r.json()["errors"][0]["detail"]


def test_presets_from_config_by_name() -> None:
    config = {"scenarios": {"doomed": {"fail_at": 40, "durations": {"pending": 1, "running": 10}}}}
    with served(config) as (server, checker):
        jobs = Jobs(server, checker)
        job_id = jobs.create("exports", headers={"X-Mock-Scenario": "doomed"})
        server.clock.advance(4.9)
        assert jobs.read("exports", job_id)["status"] == "in_progress"
        server.clock.advance(0.1)
        assert jobs.read("exports", job_id)["status"] == "failed"
