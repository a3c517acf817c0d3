"""Each contract rule on its own: synthetic exchanges in, "Received / Documented" problems out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from contract_tests import checks, list_rules, rules
from contract_tests.checks import CredentialsAccepted, terminal_change_problems, track
from contract_tests.exchange import Exchange, find_template
from contract_tests.followups import (
    deleted_problems,
    linked_gets,
    retrievable_problems,
    written_problems,
)
from contract_tests.invariants import JobHistory
from contract_tests.model import BUILTIN, JobModel, load_spec
from contract_tests.timeline import BudgetExhausted, Timeline, clock_moves

SPEC = load_spec(str(Path(__file__).resolve().parent.parent / "openapi.yaml"))
BASE = "http://mock.test"
JSONAPI = "application/vnd.api+json"
T0, T1, T2 = "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z", "2026-01-01T00:00:05.000Z"


def job(kind: str = "imports", jid: str = "job1", **attrs: Any) -> dict[str, Any]:
    base = {"status": "pending", "created_at": T0, "updated_at": T0, "started_at": None,
            "completed_at": None, "interrupted_at": None}
    return {"id": jid, "type": kind, "attributes": {**base, **attrs}}


def ex(method: str, path: str, status: int = 200, body: Any = None, *, ctype: str = JSONAPI,
       request_body: Any = None, query: str = "", headers: dict[str, str] | None = None) -> Exchange:
    raw = json.dumps(body).encode() if body is not None else b""
    return Exchange(method=method, url=f"{BASE}{path}{'?' + query if query else ''}",
                    template=find_template(SPEC, method, path), status=status, content_type=ctype,
                    body=body, raw=raw, request_body=request_body,
                    request_headers=headers or {"Authorization": "Bearer t"}, spec=SPEC)


# --- the lifecycle table matches the spec ----------------------------------------------------

def test_lifecycle_table_matches_every_status_enum_of_the_spec() -> None:
    model = JobModel.from_spec(SPEC)
    assert model.problems == ()
    assert set(model.jsonapi) == {"imports", "exports", "cleanups"}
    assert [lc.kind for lc in model.plain.values()] == ["rackspace_cleanups"]


def test_a_spec_status_missing_from_the_lifecycle_is_reported() -> None:
    doc = json.loads(json.dumps(SPEC))
    doc["components"]["schemas"]["Import"]["properties"]["attributes"]["properties"]["status"][
        "enum"].append("archived")
    assert any("archived" in p for p in JobModel.from_spec(doc).problems)


def test_x_lifecycle_extension_wins_over_the_builtin_table() -> None:
    doc = json.loads(json.dumps(SPEC))
    doc["components"]["schemas"]["Import"]["x-lifecycle"] = {
        "stages": ["pending", "in_progress", ["completed", "interrupted"]]}
    assert JobModel.from_spec(doc).jsonapi["imports"].ranks["in_progress"] == 1


# --- jsonapi_media_type / rackspace_media_type --------------------------------------------

def test_media_type_is_the_apis_own() -> None:
    assert rules.media_type_problems(ex("GET", "/api/imports", body={"data": []})) == []
    wrong = rules.media_type_problems(ex("GET", "/api/imports", body={"data": []}, ctype="application/json"))
    assert "Received Content-Type `application/json` / Documented application/vnd.api+json" in wrong[0]
    assert rules.media_type_problems(ex("GET", "/v2/1/cleanups", body={"cleanups": []},
                                        ctype="application/json")) == []
    assert rules.media_type_problems(ex("DELETE", "/api/imports/x", 204)) == []


# --- error_shape -------------------------------------------------------------------------------

def test_error_shape_of_commerce_layer() -> None:
    good = {"errors": [{"code": "RECORD_NOT_FOUND", "title": "t", "detail": "d", "status": "404"}]}
    assert rules.error_shape_problems(ex("GET", "/api/imports/x", 404, good)) == []
    assert rules.error_shape_problems(ex("GET", "/api/imports/x", 404, {"message": "no"}))
    bad_status = {"errors": [{"code": "X", "title": "t", "detail": "d", "status": "500"}]}
    assert "disagrees with HTTP" in rules.error_shape_problems(
        ex("GET", "/api/imports/x", 404, bad_status))[0]
    no_code = {"errors": [{"title": "t", "detail": "d", "status": "404"}]}
    assert "lacks string code" in rules.error_shape_problems(ex("GET", "/api/imports/x", 404, no_code))[0]


def test_error_shape_of_rackspace() -> None:
    path = "/v2/1/cleanups/x"
    assert rules.error_shape_problems(ex("GET", path, 404, {"message": "gone"})) == []
    assert rules.error_shape_problems(ex("GET", path, 404, {"errors": [{"code": "X"}]}))


# --- status_in_enum, timestamps_match_status, counters_within_totals ---------------------------

def test_status_must_be_in_the_enum() -> None:
    body = {"data": job(status="archived")}
    assert "Received `archived`" in rules.job_status_problems(ex("GET", "/api/imports/job1", 200, body))[0]


@pytest.mark.parametrize(("attrs", "needle"), [
    ({"status": "pending", "started_at": T1}, "set too early"),
    ({"status": "in_progress"}, "`started_at` missing"),
    ({"status": "completed", "started_at": T1}, "`completed_at` missing"),
    ({"status": "completed", "started_at": T2, "completed_at": T1}, "out of order"),
    ({"status": "interrupted", "completed_at": T1, "interrupted_at": T1}, "`completed_at` set"),
])
def test_timestamps_match_status(attrs: dict[str, Any], needle: str) -> None:
    problems = rules.job_timestamp_problems(ex("GET", "/api/imports/job1", 200, {"data": job(**attrs)}))
    assert any(needle in p for p in problems), problems


def test_timestamps_of_a_consistent_job_pass() -> None:
    done = job(status="completed", started_at=T1, completed_at=T2)
    assert rules.job_timestamp_problems(ex("GET", "/api/imports/job1", 200, {"data": done})) == []


@pytest.mark.parametrize(("kind", "attrs", "needle"), [
    ("imports", {"inputs_size": 3, "processed_count": 4}, "processed_count=4 with inputs_size=3"),
    ("imports", {"inputs_size": 3, "processed_count": 2, "errors_count": 2}, "counters over total"),
    ("exports", {"records_count": 3, "progress": 120}, "progress out of range"),
    ("cleanups", {"records_count": 3, "processed_count": -1}, "negative counter"),
])
def test_counters_within_totals(kind: str, attrs: dict[str, Any], needle: str) -> None:
    body = {"data": job(kind, **attrs)}
    problems = rules.job_counter_problems(ex("GET", f"/api/{kind}/job1", 200, body))
    assert any(needle in p for p in problems), problems


# --- triggers_take_effect ------------------------------------------------------------------

def test_interrupt_must_answer_interrupted() -> None:
    patch = {"data": {"type": "imports", "id": "job1", "attributes": {"_interrupt": True}}}
    ignored = ex("PATCH", "/api/imports/job1", 200, {"data": job(status="in_progress", started_at=T1)},
                 request_body=patch)
    assert "not applied" in rules.trigger_problems(ignored)[0]
    applied = ex("PATCH", "/api/imports/job1", 200,
                 {"data": job(status="interrupted", interrupted_at=T1)}, request_body=patch)
    assert rules.trigger_problems(applied) == []


# --- page_links_consistent -----------------------------------------------------------------

def page(number: int, size: int, count: int, links: dict[str, str], n: int | None = None) -> Any:
    data = [job(jid=f"j{i}") for i in range(n if n is not None else min(size, count))]
    pages = -(-count // size)
    return {"data": data, "meta": {"record_count": count, "page_count": pages}, "links": links}


def link(number: int, extra: str = "") -> str:
    return f"{BASE}/api/imports?{extra}page%5Bnumber%5D={number}&page%5Bsize%5D=2"


def test_consistent_page_passes() -> None:
    body = page(2, 2, 5, {"first": link(1), "prev": link(1), "next": link(3), "last": link(3)})
    assert list_rules.paging_problems(ex("GET", "/api/imports", body=body,
                                    query="page[number]=2&page[size]=2")) == []


@pytest.mark.parametrize(("links", "count", "n", "needle"), [
    ({"first": link(1), "prev": link(1), "last": link(3)}, 5, 2, "`next` link missing"),
    ({"first": link(1), "prev": link(1), "next": link(2), "last": link(3)}, 5, 2, "wrong page"),
    ({"first": link(1), "prev": link(1), "next": link(3), "last": link(3)}, 5, 1, "wrong number"),
])
def test_broken_pages_are_found(links: dict[str, str], count: int, n: int, needle: str) -> None:
    body = page(2, 2, count, links, n)
    problems = list_rules.paging_problems(ex("GET", "/api/imports", body=body,
                                        query="page[number]=2&page[size]=2"))
    assert any(needle in p for p in problems), problems


def test_links_must_keep_the_filters() -> None:
    f = "filter%5Bq%5D%5Bstatus_eq%5D=pending&"
    body = page(1, 2, 3, {"first": link(1, f), "next": link(2), "last": link(2, f)})
    problems = list_rules.paging_problems(ex("GET", "/api/imports", body=body,
                                        query="filter[q][status_eq]=pending&page[size]=2"))
    assert any("drops or changes the query" in p for p in problems)


def test_rackspace_markers() -> None:
    items = [{"id": "c3", "state": "completed"}, {"id": "c2", "state": "completed"}]
    good = {"cleanups": items, "links": [
        {"rel": "next", "href": f"{BASE}/v2/1/cleanups?marker=c2"},
        {"rel": "previous", "href": f"{BASE}/v2/1/cleanups?marker=c3&sort_dir=asc"}]}
    assert list_rules.paging_problems(ex("GET", "/v2/1/cleanups", body=good, ctype="application/json",
                                    query="limit=2")) == []
    bad = {"cleanups": items, "links": [
        {"rel": "next", "href": f"{BASE}/v2/1/cleanups?marker=c3"},
        {"rel": "previous", "href": f"{BASE}/v2/1/cleanups?marker=c3"}]}
    problems = list_rules.paging_problems(ex("GET", "/v2/1/cleanups", body=bad, ctype="application/json",
                                        query="limit=2"))
    assert any("`next` marker" in p for p in problems)
    assert any("keeps the direction" in p for p in problems)


# --- StatusNeverRegresses / TerminalJobRejectsChanges (history across responses) -------------

def seen(history: JobHistory, **attrs: Any) -> list[str]:
    return track(history, ex("GET", "/api/imports/job1", 200, {"data": job(**attrs)}))


def test_status_never_regresses() -> None:
    h = JobHistory()
    assert seen(h, status="in_progress", started_at=T1) == []
    assert "moved backwards" in seen(h, status="pending")[0]


def test_terminal_status_never_changes_and_counters_never_decrease() -> None:
    h = JobHistory()
    seen(h, status="in_progress", started_at=T1, processed_count=3, inputs_size=5)
    assert "`processed_count` decreased" in seen(h, status="in_progress", started_at=T1,
                                                 processed_count=2, inputs_size=5)[0]
    seen(h, status="completed", started_at=T1, completed_at=T2)
    assert "terminal status changed" in seen(h, status="interrupted", started_at=T1,
                                             interrupted_at=T2)[0]


def test_start_reopens_a_resumable_job() -> None:
    h = JobHistory()
    track(h, ex("GET", "/api/exports/job1", 200, {"data": job("exports", status="interrupted",
                                                              interrupted_at=T1)}))
    start = {"data": {"type": "exports", "id": "job1", "attributes": {"_start": True}}}
    assert track(h, ex("PATCH", "/api/exports/job1", 200, {"data": job("exports")},
                       request_body=start)) == []


def test_terminal_job_rejects_changes() -> None:
    h = JobHistory()
    track(h, ex("GET", "/api/imports/job1", 200, {"data": job(status="completed", started_at=T1,
                                                              completed_at=T2)}))
    patch = {"data": {"type": "imports", "id": "job1", "attributes": {"_interrupt": True}}}
    changed = ex("PATCH", "/api/imports/job1", 200,
                 {"data": job(status="interrupted", interrupted_at=T2)}, request_body=patch)
    assert "changed a terminal job" in terminal_change_problems(h, changed)[0]
    refused = ex("PATCH", "/api/imports/job1", 422,
                 {"errors": [{"code": "V", "title": "t", "detail": "d", "status": "422"}]},
                 request_body=patch)
    assert terminal_change_problems(h, refused) == []


def test_rackspace_patch_on_a_terminal_cleanup_must_conflict() -> None:
    h = JobHistory()
    path = "/v2/1/cleanups/c1"
    track(h, ex("GET", path, 200, {"id": "c1", "state": "completed", "started_time": T1,
                                   "ended_time": T2}, ctype="application/json"))
    stop = [{"op": "replace", "path": "/state", "value": "stop_requested"}]
    accepted = ex("PATCH", path, 204, None, ctype="", request_body=stop)
    assert "Documented 409" in terminal_change_problems(h, accepted)[0]


# --- created_job_is_retrievable / deleted_job_is_gone ---------------------------------------

class FakeGet:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status, self.body, self.urls = status, body, []

    def __call__(self, url: str, headers: Any) -> requests.Response:
        self.urls.append(url)
        resp = requests.Response()
        resp.status_code = self.status
        resp._content = json.dumps(self.body).encode() if self.body is not None else b""
        resp.headers["Content-Type"] = JSONAPI
        resp.request = requests.Request("GET", url, headers=headers).prepare()
        return resp


def test_created_job_is_retrievable_through_the_specs_links() -> None:
    created = ex("POST", "/api/imports", 201, {"data": job()})
    assert f"{BASE}/api/imports/job1" in [url for _, url in linked_gets(created)]
    assert retrievable_problems(created, FakeGet(200, {"data": job()})) == []
    assert "not retrievable" in retrievable_problems(created, FakeGet(404))[0]


def test_deleted_job_is_gone() -> None:
    deleted = ex("DELETE", "/api/imports/job1", 204)
    assert deleted_problems(deleted, FakeGet(404)) == []
    assert "still there" in deleted_problems(deleted, FakeGet(200, {"data": job()}))[0]


# --- lists_sorted_as_asked, lists_filtered_as_asked ---------------------------------------------

def _listing(*items: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(items), "meta": {"record_count": len(items), "page_count": 1},
            "links": {}}


@pytest.mark.parametrize(("sort", "refs", "wrong"), [
    ("reference", ["a", "b", "b"], False),
    ("-reference", ["b", "a"], False),
    ("reference", ["b", "a"], True),
    ("-reference", ["a", "b"], True),
    ("reference", ["B", "a"], False),  # a case-blind collation may put B after a, or before
    ("reference,-created_at", ["a", "a"], False),
    ("reference", [None, "a"], False),  # where nulls sort is the server's choice
])
def test_lists_are_judged_only_where_every_collation_agrees(sort: str, refs: list[Any],
                                                            wrong: bool) -> None:
    items = [job(jid=f"j{i}", reference=r) for i, r in enumerate(refs)]
    problems = list_rules.sort_problems(ex("GET", "/api/imports", 200, _listing(*items),
                                      query=f"sort={sort}"))
    assert bool(problems) == wrong, problems
    if wrong:
        assert "out of order" in problems[0] and "Documented" in problems[0]


@pytest.mark.parametrize(("query", "refs", "wrong"), [
    ("filter[q][reference_eq]=a", ["a", "a"], False),
    ("filter[q][reference_eq]=a", ["a", "b"], True),
    ("filter[q][reference_eq]=a", ["A"], False),  # MySQL's collations ignore case
    ("filter[q][reference_not_eq]=a", ["A"], False),
    ("filter[q][reference_not_eq]=a", ["a"], True),
    ("filter[q][reference_in]=a,b", ["a", "b"], False),
    ("filter[q][reference_in][]=a&filter[q][reference_in][]=b", ["a", "b"], False),
    ("filter[q][reference_in]=a,b", ["c"], True),
    ("filter[q][reference_not_in]=a,b", ["a"], True),
    ("filter[q][reference_null]=true", [None], False),
    ("filter[q][reference_null]=true", ["a"], True),
    ("filter[q][reference_not_null]=true", [None], True),
    ("filter[q][reference_null]=maybe", ["a"], False),  # not a boolean: the server's call
    ("filter[q][reference_start]=x", ["a"], False),  # predicates it does not judge
    ("filter[q][created_at_eq]=x", ["a"], False),
])
def test_filters_are_judged_on_equality_inclusion_and_nullness(query: str, refs: list[Any],
                                                               wrong: bool) -> None:
    items = [job(jid=f"j{i}", reference=r) for i, r in enumerate(refs)]
    problems = list_rules.filter_problems(ex("GET", "/api/imports", 200, _listing(*items), query=query))
    assert bool(problems) == wrong, problems


# --- credentials_echoed --------------------------------------------------------------------------

def _jwt(**claims: Any) -> str:
    import base64

    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS512'})}.{part(claims)}.sig"


@pytest.mark.parametrize(("test", "meta", "needle"), [
    (True, {"mode": "test", "organization_id": "org1"}, None),
    (False, {"mode": "live", "organization_id": "org1"}, None),
    (True, {"mode": "live", "organization_id": "org1"}, "wrong environment"),
    (True, {"mode": "test", "organization_id": "org2"}, "another organization"),
])
def test_resources_echo_the_tokens_environment_and_organization(test: bool, meta: dict[str, str],
                                                                needle: str | None) -> None:
    token = _jwt(test=test, organization={"id": "org1", "slug": "acme"})
    body = {"data": {**job(), "meta": meta}}
    problems = rules.credential_problems(ex("GET", "/api/imports/job1", 200, body,
                                            headers={"Authorization": f"Bearer {token}"}))
    assert (needle is None and problems == []) or (needle and needle in problems[0]), problems


def test_opaque_tokens_are_not_judged() -> None:
    body = {"data": {**job(), "meta": {"mode": "live"}}}
    assert rules.credential_problems(ex("GET", "/api/imports/job1", 200, body)) == []


# --- written_fields_read_back --------------------------------------------------------------------

class _Reply:
    def __init__(self, body: Any, status: int = 200) -> None:
        self.status_code, self._body = status, body

    def json(self) -> Any:
        return self._body


@pytest.mark.parametrize(("answered", "read", "needle"), [
    ("new", "new", None),
    ("old", "new", "in the PATCH answer"),
    ("new", "old", "in the next GET"),
])
def test_a_patch_shows_what_it_wrote(answered: str, read: str, needle: str | None) -> None:
    body = {"data": {"type": "imports", "id": "job1", "attributes": {"reference": "new",
                                                                     "_interrupt": False}}}
    patch = ex("PATCH", "/api/imports/job1", 200, {"data": job(reference=answered)},
               request_body=body)
    problems = written_problems(patch, lambda url, headers: _Reply({"data": job(reference=read)}))
    assert (needle is None and problems == []) or (needle and needle in problems[0]), problems


def test_a_null_written_may_read_back_as_the_servers_empty_value() -> None:
    body = {"data": {"type": "imports", "id": "job1", "attributes": {"metadata": None}}}
    patch = ex("PATCH", "/api/imports/job1", 200, {"data": job(metadata={})}, request_body=body)
    assert written_problems(patch, lambda url, headers: _Reply({"data": job(metadata={})})) == []


# --- registration and run-level checks ------------------------------------------------------

def test_checks_are_registered_with_schemathesis() -> None:
    from schemathesis.checks import CHECKS

    names = set(CHECKS.get_all_names())
    assert {"jsonapi_media_type", "rackspace_media_type", "error_shape", "status_in_enum",
            "timestamps_match_status", "counters_within_totals", "triggers_take_effect",
            "page_links_consistent", "created_job_is_retrievable", "deleted_job_is_gone",
            "StatusNeverRegresses", "TerminalJobRejectsChanges", "CredentialsAccepted",
            "lists_sorted_as_asked", "lists_filtered_as_asked", "credentials_echoed",
            "written_fields_read_back"} <= names
    assert checks.StatusNeverRegresses().history.last == {}


def test_a_run_where_every_request_was_refused_fails() -> None:
    check = CredentialsAccepted()
    check.refused.add("GET /api/imports")
    with pytest.raises(AssertionError, match="Every authenticated request was refused"):
        check.after_run(None)  # type: ignore[arg-type]
    check.accepted.add("GET /api/imports")
    check.after_run(None)  # type: ignore[arg-type]


# --- Timeline ----------------------------------------------------------------------------

def test_timeline_uses_the_in_process_clock_when_it_has_one() -> None:
    class Clock:
        moved = 0.0

        def advance(self, seconds: float) -> float:
            self.moved += seconds
            return self.moved

    clock = Clock()
    t = Timeline(BASE, handle=clock)
    t.advance(30)
    assert t.controlled and clock.moved == 30


def test_timeline_sleeps_within_its_budget_without_clock_control() -> None:
    slept: list[float] = []
    t = Timeline(BASE, budget=2.0, interval=1.0, sleep=slept.append)
    t.advance(1.5)
    t.advance(1.5)
    assert slept == [1.5, 0.5] and not t.controlled
    with pytest.raises(BudgetExhausted):
        t.advance(1)


@pytest.mark.parametrize("frozen", [True, False])
def test_the_mocks_clock_is_recognised_by_an_advance_that_moves_it(frozen: bool) -> None:
    from mock_server import MockServer, Settings

    with MockServer(Settings(port=0, frozen=frozen, speed=60.0)) as server:
        assert clock_moves(server.url)


@pytest.mark.parametrize("dynamic", [False, True])
def test_a_stateless_mock_answering_the_clock_from_the_spec_is_not_taken_for_it(
        dynamic: bool) -> None:
    from .stateless_server import StatelessServer

    standin = StatelessServer(SPEC, dynamic=dynamic).start()
    try:
        assert not clock_moves(standin.url)
        assert not clock_moves("http://127.0.0.1:9")  # nothing there at all
    finally:
        standin.stop()


def test_every_builtin_lifecycle_names_its_interrupted_status() -> None:
    for lc in BUILTIN.values():
        assert lc.interrupted in lc.terminal
