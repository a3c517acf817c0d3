"""Rackspace Cloud Backup v2 cleanups over HTTP: lifecycle on the virtual clock, PATCH, paging."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server import MockServer, Settings
from mock_server.domain.lifecycle import LIFECYCLES
from mock_server.keys import SCENARIOS, SPEC, STORE
from mock_server.vendors.rackspace.cleanups import KIND, set_outcome

from .fixtures.conformance import ResponseChecker
from .fixtures.http import START_ISO, Api

AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"  # the agent of the documented examples
BASE = "/v2/123456/cleanups"
PATCH_JSON = {"Content-Type": "application/json-patch+json"}
TERMINAL = ("Modifying a cleanup that is already in a state of "
            "['completed', 'completed_with_errors', 'failed', 'stopped'] is not allowed.")
RS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
DOC = Path(__file__).resolve().parent.parent / "fixtures/vendor_docs/002_9a41a57ea0a09dce.txt"


def create(rs: Api, state: str = "start_requested", base: str = BASE, **headers: str
           ) -> dict[str, Any]:
    r = rs.post(base, json={"agent_id": AGENT, "state": state}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def get(rs: Api, cleanup: dict[str, Any]) -> dict[str, Any]:
    r = rs.get(f"{BASE}/{cleanup['id']}")
    assert r.status_code == 200, r.text
    return r.json()


def patch(rs: Api, cleanup: dict[str, Any], *ops: tuple[str, Any], **headers: str) -> Any:
    body = [{"op": "replace", "path": path, "value": value} for path, value in ops]
    return rs.patch(f"{BASE}/{cleanup['id']}", data=json.dumps(body),
                    headers={**PATCH_JSON, **headers})


def event_names(rs: Api, cleanup: dict[str, Any]) -> list[str]:
    r = rs.get(f"{BASE}/{cleanup['id']}/events")
    assert r.status_code == 200, r.text
    return [e["event"] for e in r.json()["events"]]


@pytest.fixture
def fate(server: MockServer) -> Iterator[Callable[[str], None]]:
    """fate("outcome=completed_with_errors"): the next cleanups get that QA scenario (a rule)."""
    book = server.app[SCENARIOS]
    yield lambda spec: book.add_rule({"type": KIND}, spec, namespace="default") and None
    book.clear("default")


# ---- creation and the default lifecycle ----

def test_post_answers_201_with_location_and_the_documented_fresh_shape(rs: Api, server: MockServer
                                                                       ) -> None:
    r = rs.post(BASE, json={"agent_id": AGENT, "state": "start_requested"})
    assert r.status_code == 201
    c = r.json()
    assert r.headers["Location"] == f"{server.url}{BASE}/{c['id']}"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", c["id"])
    assert c["project_id"] == "123456" and c["state"] == "start_requested"
    assert c["started_time"] is None and c["ended_time"] is None and c["snapshot_ids"] == []
    assert c["bytes_before"] == 0 and c["bytes_after"] == 0
    assert c["errors"]["count"] == 0 and c["errors"]["reason"] == ""
    assert c["errors"]["diagnostics"] == ""
    assert c["errors"]["links"] == [{"href": f"{server.url}{BASE}/{c['id']}/errors", "rel": "full"}]
    assert c["agent"] == {"id": AGENT, "links": [
        {"href": f"{server.url}/v2/123456/agents/{AGENT}", "rel": "full"}]}
    assert c["links"] == [{"href": f"{server.url}{BASE}/{c['id']}", "rel": "self"},
                          {"href": f"{server.url}{BASE}/{c['id']}/events", "rel": "events"}]
    assert rs.get(r.headers["Location"]).json() == c


def test_completed_lifecycle_over_virtual_time(rs: Api, server: MockServer) -> None:
    c = create(rs)
    seen = []
    for step in (0.5, 0.5, 1.0, 2.5, 2.5, 3600):  # start_requested 1 s, queued 1 s, work 5 s
        server.clock.advance(step)
        seen.append(get(rs, c))
    assert [s["state"] for s in seen] == ["start_requested", "queued", "in_progress", "in_progress",
                                          "completed", "completed"]
    running, halfway, done = seen[2], seen[3], seen[4]
    assert running["started_time"] == "2026-01-01T00:00:02.000000Z"
    assert running["ended_time"] is None
    assert running["errors"]["diagnostics"] is None
    assert done["ended_time"] == "2026-01-01T00:00:07.000000Z"
    assert RS_TIME.match(done["started_time"]) and RS_TIME.match(done["ended_time"])
    # vault size appears when the work starts; reclaimed space and snapshots grow as it runs
    assert running["bytes_before"] == halfway["bytes_before"] == done["bytes_before"] > 0
    assert running["bytes_before"] == running["bytes_after"] > halfway["bytes_after"]
    assert halfway["bytes_after"] > done["bytes_after"] > 0
    assert len(running["snapshot_ids"]) <= len(halfway["snapshot_ids"]) <= len(done["snapshot_ids"])
    assert done["snapshot_ids"][: len(halfway["snapshot_ids"])] == halfway["snapshot_ids"]
    assert done["errors"]["count"] == 0 and seen[5] == done
    assert event_names(rs, c) == ["cleanup_start_request", "cleanup_queued", "cleanup_in_progress",
                                  "cleanup_completed"]


def test_scheduled_cleanup_starts_as_start_scheduled(rs: Api, server: MockServer) -> None:
    c = create(rs, "start_scheduled")
    assert c["state"] == "start_scheduled"
    server.clock.advance(1)
    assert get(rs, c)["state"] == "queued"
    assert event_names(rs, c) == ["cleanup_start_request", "cleanup_queued"]


def test_completed_with_errors_lifecycle(rs: Api, server: MockServer,
                                        fate: Callable[[str], None]) -> None:
    fate("outcome=completed_with_errors")
    c = create(rs)
    counts = []
    for _ in range(8):
        server.clock.advance(1)
        counts.append(get(rs, c)["errors"]["count"])
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] >= 1  # appear as it runs
    done = get(rs, c)
    assert done["state"] == "completed_with_errors"
    assert done["ended_time"] == "2026-01-01T00:00:07.000000Z"
    assert done["errors"]["reason"] and done["errors"]["diagnostics"] is None
    errors = rs.get(f"{BASE}/{c['id']}/errors").json()
    assert errors["count"] == done["errors"]["count"] == len(errors["list"])
    assert errors["diagnostics"] is None and errors["reason"] == done["errors"]["reason"]
    assert errors["links"] == [{"href": f"{server.url}{BASE}/{c['id']}/errors", "rel": "self"}]
    for item in errors["list"]:
        assert set(item) == {"index", "path", "type", "description", "exception"}
        assert item["path"].startswith("/") and item["description"] and item["exception"] is None
    # notes: there is no cleanup_completed_with_errors event; it reports as cleanup_completed
    assert event_names(rs, c)[-1] == "cleanup_completed"


def test_failed_lifecycle_stops_part_way(rs: Api, server: MockServer,
                                        fate: Callable[[str], None]) -> None:
    fate("fail_at=50")
    c = create(rs)
    server.clock.advance(4.4)
    assert get(rs, c)["state"] == "in_progress"
    server.clock.advance(0.1)  # work started at 2 s and lasts 5 s: half is 4.5 s
    failed = get(rs, c)
    assert failed["state"] == "failed" and failed["ended_time"] == "2026-01-01T00:00:04.500000Z"
    assert failed["errors"]["count"] >= 1 and failed["errors"]["reason"]
    assert failed["bytes_before"] > failed["bytes_after"]
    server.clock.advance(3600)
    assert get(rs, c) == failed
    assert event_names(rs, c)[-1] == "cleanup_failed"


def test_numbers_are_deterministic_for_a_seed(rs: Api, server: MockServer) -> None:
    c = create(rs)
    server.clock.advance(60)
    first = get(rs, c)
    with MockServer(Settings(port=0, seed=7, frozen=True, start=START_ISO)) as other:
        again = Api(other.url, ResponseChecker(other.app[SPEC]), dict(rs.headers))
        twin = again.post(BASE, json={"agent_id": AGENT, "state": "start_requested"}).json()
        other.clock.advance(60)
        assert again.get(f"{BASE}/{twin['id']}").json() == {
            **first, "agent": twin["agent"],
            "errors": {**first["errors"], "links": twin["errors"]["links"]},
            "links": twin["links"]}


# ---- stop requests and PATCH ----

@pytest.mark.parametrize("wait, state",
                         [(0.0, "start_requested"), (1.5, "queued"), (3.0, "in_progress")])
def test_stop_request_from_every_running_state(rs: Api, server: MockServer, wait: float,
                                               state: str) -> None:
    c = create(rs)
    server.clock.advance(wait)
    assert get(rs, c)["state"] == state
    r = patch(rs, c, ("/state", "stop_requested"))
    assert r.status_code == 204 and r.content == b""
    assert get(rs, c)["state"] == "stop_requested"
    assert patch(rs, c, ("/state", "stop_requested")).status_code == 204  # asking twice is fine
    server.clock.advance(1)  # the simulated agent stops after Timing.stopping (1 s)
    stopped = get(rs, c)
    assert stopped["state"] == "stopped" and RS_TIME.match(stopped["ended_time"])
    names = event_names(rs, c)
    assert names[-2:] == ["cleanup_stop_request", "cleanup_stopped"]
    assert "cleanup_completed" not in names
    events = rs.get(f"{BASE}/{c['id']}/events").json()["events"]
    assert "request_id" in events[-2] and "request_id" not in events[-1]


@pytest.mark.parametrize("outcome", [None, "completed_with_errors", "failed"])
def test_patch_on_a_terminal_cleanup_is_409(rs: Api, server: MockServer,
                                            fate: Callable[[str], None], outcome: str | None) -> None:
    if outcome:
        fate("fail_at=50" if outcome == "failed" else f"outcome={outcome}")
    c = create(rs)
    server.clock.advance(3600)
    for ops in ([("/state", "stop_requested")], [("/state", "completed")], [("/bytes_after", 1)]):
        r = patch(rs, c, *ops)
        assert r.status_code == 409 and r.json() == {"message": TERMINAL}


def test_patch_on_a_stopped_cleanup_is_409(rs: Api, server: MockServer) -> None:
    c = create(rs)
    patch(rs, c, ("/state", "stop_requested"))
    server.clock.advance(2)
    r = patch(rs, c, ("/state", "stop_requested"))
    assert r.status_code == 409 and r.json() == {"message": TERMINAL}


def test_agent_drives_a_cleanup_by_hand(rs: Api, server: MockServer) -> None:
    c = create(rs)
    assert patch(rs, c, ("/state", "queued")).status_code == 204
    server.clock.advance(3600)  # a reported state holds until the agent reports the next one
    assert get(rs, c)["state"] == "queued"
    assert patch(rs, c, ("/state", "in_progress")).status_code == 204
    server.clock.advance(3600)
    running = get(rs, c)
    assert running["state"] == "in_progress"
    assert running["started_time"] == "2026-01-01T01:00:00.000000Z"
    result = [("/state", "completed_with_errors"), ("/started_time", "2014-10-10T19:05:44.632393Z"),
              ("/ended_time", "2014-10-10T19:35:44.632393Z"), ("/snapshot_ids", [23, 51]),
              ("/bytes_before", 1073741824), ("/bytes_after", 1067030938),
              ("/errors", {"count": 1, "reason": "error_deleting_object", "diagnostics": None,
                           "list": [{"index": 34, "path": "/var/www/html/log/st_808_playlist.txt",
                                     "type": "file_missing_blocks", "exception": None}]})]
    assert patch(rs, c, *result).status_code == 204  # notes §4: the documented agent report
    done = get(rs, c)
    assert done["state"] == "completed_with_errors"
    assert done["started_time"] == "2014-10-10T19:05:44.632393Z"
    assert done["ended_time"] == "2014-10-10T19:35:44.632393Z"
    assert done["snapshot_ids"] == [23, 51]
    assert (done["bytes_before"], done["bytes_after"]) == (1073741824, 1067030938)
    assert done["errors"]["count"] == 1
    assert done["errors"]["reason"] == "Error deleting object. Server returned HTTP 503"
    errors = rs.get(f"{BASE}/{c['id']}/errors").json()
    assert errors["list"] == [{"index": 34, "path": "/var/www/html/log/st_808_playlist.txt",
                               "type": "file_missing_blocks", "exception": None,
                               "description": "A vault validation determined that the specified "
                                              "file is missing blocks."}]
    assert event_names(rs, c) == ["cleanup_start_request", "cleanup_queued", "cleanup_in_progress",
                                  "cleanup_completed"]
    assert patch(rs, c, ("/state", "in_progress")).status_code == 409


def test_agent_reports_failed_and_a_stop_it_must_confirm(rs: Api, server: MockServer) -> None:
    failing, stopping = create(rs), create(rs)
    for c in (failing, stopping):
        patch(rs, c, ("/state", "queued"))
        patch(rs, c, ("/state", "in_progress"))
    server.clock.advance(10)
    assert patch(rs, failing, ("/state", "failed")).status_code == 204
    assert get(rs, failing)["state"] == "failed"
    assert event_names(rs, failing)[-1] == "cleanup_failed"
    assert patch(rs, stopping, ("/state", "stop_requested")).status_code == 204
    server.clock.advance(3600)  # a reporting agent must confirm the stop itself
    assert get(rs, stopping)["state"] == "stop_requested"
    assert patch(rs, stopping, ("/state", "stopped")).status_code == 204
    assert get(rs, stopping)["state"] == "stopped"


@pytest.mark.parametrize("wait, value", [
    (0.0, "completed"),  # start_requested cannot skip to the end
    (0.0, "in_progress"),  # nor skip queued
    (3.0, "queued"),  # in_progress cannot go back
    (3.0, "stopped"),  # stopped only follows a stop request
    (0.0, "start_scheduled"),
])
def test_invalid_transitions_are_400(rs: Api, server: MockServer, wait: float, value: str) -> None:
    c = create(rs)
    server.clock.advance(wait)
    before = get(rs, c)
    r = patch(rs, c, ("/state", value))
    assert r.status_code == 400
    body = r.json()
    assert "Invalid state transition" in body["message"] and value in body["message"]
    assert body["errors"]
    assert get(rs, c) == before  # nothing changed


def test_a_patch_is_all_or_nothing(rs: Api) -> None:
    c = create(rs)
    r = patch(rs, c, ("/state", "queued"), ("/bytes_before", -1), ("/snapshot_ids", ["a"]),
              ("/started_time", "yesterday"))
    assert r.status_code == 400 and r.json()["message"] == "Validation failed."
    assert len(r.json()["errors"]) == 3
    assert get(rs, c)["state"] == "start_requested"


@pytest.mark.parametrize("body", [
    [{"op": "remove", "path": "/state"}],
    [{"op": "replace", "path": "/id", "value": "x"}],
    [{"op": "replace", "path": "/state", "value": "exploded"}],
    [],
    {"state": "stop_requested"},
])
def test_malformed_patches_are_400(rs: Api, body: Any) -> None:
    c = create(rs)
    r = rs.patch(f"{BASE}/{c['id']}", data=json.dumps(body), headers=PATCH_JSON)
    assert r.status_code == 400 and r.json()["message"]


def test_patch_needs_a_json_content_type(rs: Api) -> None:
    c = create(rs)
    r = rs.patch(f"{BASE}/{c['id']}", data="[]", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "json-patch+json" in r.json()["message"]


# ---- lists and paging ----

def test_marker_paging_over_250_cleanups_in_both_directions(rs: Api, server: MockServer) -> None:
    made = [create(rs)["id"] for _ in range(250)]
    first = rs.get(BASE).json()
    assert [c["id"] for c in first["cleanups"]] == made[::-1][:100]  # desc, limit 100 by default

    def walk(url: str) -> tuple[list[str], list[dict[str, Any]]]:
        ids: list[str] = []
        pages = []
        while True:
            page = rs.get(url).json()
            if not page["cleanups"]:
                assert "links" not in page
                return ids, pages
            pages.append(page)
            ids += [c["id"] for c in page["cleanups"]]
            url = {link["rel"]: link["href"] for link in page["links"]}["next"]

    down, pages = walk(f"{BASE}?limit=30")
    assert down == made[::-1] and len(pages) == 9
    up, _ = walk(f"{BASE}?limit=30&sort_dir=asc")
    assert up == made
    # `previous` of every page gives back exactly the page before it (in the other direction)
    for before, page in zip(pages, pages[1:], strict=False):
        links = {link["rel"]: link["href"] for link in page["links"]}
        query = parse_qs(urlparse(links["previous"]).query)
        assert query == {"marker": [page["cleanups"][0]["id"]], "limit": ["30"],
                         "sort_dir": ["asc"]}
        back = rs.get(links["previous"]).json()["cleanups"]
        assert [c["id"] for c in back] == [c["id"] for c in before["cleanups"]][::-1]


def test_list_links_follow_the_documented_form(rs: Api, server: MockServer) -> None:
    c = create(rs)
    body = rs.get(BASE).json()
    assert body["links"] == [
        {"href": f"{server.url}{BASE}?marker={c['id']}", "rel": "next"},
        {"href": f"{server.url}{BASE}?marker={c['id']}&sort_dir=asc", "rel": "previous"},
    ]
    assert rs.get(f"{BASE}?marker={c['id']}").json() == {"cleanups": []}


def test_list_errors(rs: Api) -> None:
    assert rs.get(BASE).json() == {"cleanups": []}
    r = rs.get(f"{BASE}?marker=2f8708b3-d16b-11e4-bc22-c8e0eb190e3d")
    assert r.status_code == 400 and "marker" in r.json()["message"]
    for query in ("limit=0", "limit=abc", "sort_dir=up"):
        r = rs.get(f"{BASE}?{query}")
        assert r.status_code == 400 and r.json()["message"], query


def test_events_paging_and_links(rs: Api, server: MockServer) -> None:
    c = create(rs)
    server.clock.advance(3)
    patch(rs, c, ("/state", "stop_requested"))
    server.clock.advance(5)
    url = f"{BASE}/{c['id']}/events"
    everything = rs.get(url).json()["events"]
    assert [e["event"] for e in everything] == ["cleanup_start_request", "cleanup_queued",
                                                "cleanup_in_progress", "cleanup_stop_request",
                                                "cleanup_stopped"]
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == 5  # numeric, increasing
    assert all(RS_TIME.match(e["time"]) and e["cleanup"] == {"id": c["id"]} for e in everything)
    assert everything[0]["agent"]["id"] == AGENT
    assert set(everything[0]["agent"]["vault"]) == {"id", "encrypted"}
    assert "vault" not in everything[1]["agent"] and "request_id" in everything[0]
    page = rs.get(f"{url}?limit=2").json()
    assert page["events"] == everything[:2]
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert links["next"] == f"{server.url}{url}?marker={everything[1]['id']}&limit=2"
    assert links["previous"] == (
        f"{server.url}{url}?marker={everything[0]['id']}&limit=2&sort_dir=desc")
    assert rs.get(links["next"]).json()["events"] == everything[2:4]
    assert rs.get(f"{url}?marker={everything[1]['id']}").json()["events"] == everything[2:]
    assert rs.get(f"{url}?sort_dir=desc").json()["events"] == everything[::-1]
    older = rs.get(f"{url}?sort_dir=desc&marker={everything[2]['id']}").json()["events"]
    assert older == everything[1::-1]
    assert rs.get(f"{url}?marker={everything[-1]['id']}").json() == {"events": []}
    assert rs.get(f"{url}?marker=abc").status_code == 400


# ---- auth, roles, projects, agents ----

def test_missing_token_is_401_in_the_rackspace_shape(rs: Api) -> None:
    for method, path in (("get", BASE), ("post", BASE), ("get", f"{BASE}/x/events")):
        r = rs.request(method, path, headers={"X-Auth-Token": ""},
                       json={"agent_id": AGENT, "state": "start_requested"})
        assert r.status_code == 401 and set(r.json()) == {"message"}


def test_roles(rs: Api) -> None:
    c = create(rs)
    observer = {"X-Roles": "cloudbackup:observer"}
    r = rs.post(BASE, json={"agent_id": AGENT, "state": "start_requested"}, headers=observer)
    assert r.status_code == 403 and "cloudbackup:creator" in r.json()["message"]
    assert patch(rs, c, ("/state", "stop_requested"), **observer).status_code == 403
    assert rs.get(f"{BASE}/{c['id']}", headers=observer).status_code == 200
    assert rs.get(f"{BASE}/{c['id']}/events", headers=observer).status_code == 200
    creator = {"X-Roles": "identity:default, cloudbackup:creator"}
    assert create(rs, **creator)["state"] == "start_requested"
    both = {"X-Roles": "observer,cloudbackup:admin"}  # the stronger role wins
    assert patch(rs, c, ("/state", "stop_requested"), **both).status_code == 204
    nobody = {"X-Roles": "identity:default"}
    r = rs.get(BASE, headers=nobody)
    assert r.status_code == 403 and set(r.json()) == {"message"}


def test_projects_are_isolated(rs: Api) -> None:
    c = create(rs)
    assert rs.get(f"/v2/654321/cleanups/{c['id']}").status_code == 404
    assert rs.get("/v2/654321/cleanups").json() == {"cleanups": []}
    other = create(rs, base="/v2/654321/cleanups")
    assert other["project_id"] == "654321"
    assert [x["id"] for x in rs.get(BASE).json()["cleanups"]] == [c["id"]]
    r = rs.get(BASE, headers={"X-Auth-Project-Id": "654321"})
    assert r.status_code == 403 and "654321" in r.json()["message"]
    assert rs.get(BASE, headers={"X-Mock-Namespace": "other"}).json() == {"cleanups": []}


def test_unknown_agent_and_cleanup(rs: Api) -> None:
    r = rs.post(BASE, json={"agent_id": "0b2c6f0e-0000-4000-8000-000000000000",
                            "state": "start_requested"})
    assert r.status_code == 404 and r.json() == {"message": "Agent not found."}
    for path in ("", "/errors", "/events"):
        r = rs.get(f"{BASE}/nope{path}")
        assert r.status_code == 404 and r.json() == {"message": "Cleanup not found."}


def test_invalid_post_bodies_are_400_validation_failed(rs: Api) -> None:
    for body in ({"agent_id": AGENT}, {"agent_id": AGENT, "state": "queued"},
                 {"agent_id": AGENT, "state": "start_requested", "extra": 1}, {}):
        r = rs.post(BASE, json=body)
        assert r.status_code == 400, body
        assert r.json()["message"] == "Validation failed." and r.json()["errors"], body
    r = rs.post(BASE, data="{not json")
    assert r.status_code == 400 and set(r.json()) == {"message"}


def test_fixture_declared_agents_belong_to_their_project() -> None:
    agents = [{"id": "agent-a", "project_id": "111"}, {"id": "agent-any", "encrypted": True}]
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, extra={"agents": agents})
    with MockServer(settings) as srv:
        checker = ResponseChecker(srv.app[SPEC])
        rs = Api(srv.url, checker, {"X-Auth-Token": "t", "Content-Type": "application/json"})
        ok = rs.post("/v2/111/cleanups", json={"agent_id": "agent-a", "state": "start_requested"})
        assert ok.status_code == 201 and ok.json()["agent"]["id"] == "agent-a"
        start = {"state": "start_requested"}
        assert rs.post("/v2/222/cleanups", json={"agent_id": "agent-a", **start}).status_code == 404
        anywhere = rs.post("/v2/222/cleanups", json={"agent_id": "agent-any", **start}).json()
        events = rs.get(f"/v2/222/cleanups/{anywhere['id']}/events").json()["events"]
        assert events[0]["agent"]["vault"]["encrypted"] is True
        assert rs.post("/v2/222/cleanups", json={"agent_id": AGENT, **start}).status_code == 201
        assert not checker.problems, checker.problems


def test_bad_agents_config_fails_at_start_naming_the_key() -> None:
    from mock_server.settings import ConfigError

    with pytest.raises(ConfigError, match=r"agents\[0\]\.id"):
        MockServer(Settings(port=0, extra={"agents": [{"id": ""}]}))


def test_store_keeps_cleanups_per_project(rs: Api, server: MockServer) -> None:
    c = create(rs)
    tenants = [t for t in server.app[STORE].tenants() if t.key[1] == "rs"]
    assert [t.key for t in tenants] == [("default", "rs", "123456")]
    assert [j.id for j in tenants[0].scan(KIND)] == [c["id"]]


# ---- the spec and the documentation ----

def _doc_example() -> Any:
    """The JSON example of the list response in the vendor document."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("{", text.index("JSON response"))
    return json.loads(text[start:])


def test_documented_example_payload_validates_against_the_spec(server: MockServer) -> None:
    spec = server.app[SPEC]
    example = _doc_example()
    errors = list(spec.validator("/components/schemas/RackspaceCleanupList").iter_errors(example))
    assert not errors, errors[0].message
    one = example["cleanups"][0]
    assert not list(spec.validator("/components/schemas/RackspaceCleanup").iter_errors(one))


def test_documented_requests_work_as_written(rs: Api) -> None:
    # notes: rackspace_cleanups.md §1, §2 — the example POST body and list query
    c = create(rs)
    r = rs.get(f"/v2/110011/cleanups?marker={c['id']}&limit=100&sort_dir=asc")
    assert r.status_code == 400  # that cleanup lives in project 123456, not 110011
    r = rs.get(f"{BASE}?marker={c['id']}&limit=100&sort_dir=asc")
    assert r.status_code == 200 and r.json() == {"cleanups": []}


def test_paths_without_project_id_work_for_the_callers_project(rs: Api, server: MockServer) -> None:
    # notes: rackspace_cleanups.md §8 Base URL; the project is X-Auth-Project-Id, else 123456
    c = create(rs, base="/v2/cleanups")
    assert c["project_id"] == "123456"
    assert c["links"][0]["href"] == f"{server.url}/v2/cleanups/{c['id']}"
    assert c["agent"]["links"][0]["href"] == f"{server.url}/v2/agents/{AGENT}"
    assert rs.get(f"{BASE}/{c['id']}").json()["id"] == c["id"]  # the same cleanup, both forms
    listed = rs.get("/v2/cleanups").json()
    assert [x["id"] for x in listed["cleanups"]] == [c["id"]]
    assert listed["links"][0]["href"] == f"{server.url}/v2/cleanups?marker={c['id']}"
    r = rs.patch(f"/v2/cleanups/{c['id']}", headers=PATCH_JSON,
                 data='[{"op": "replace", "path": "/state", "value": "stop_requested"}]')
    assert r.status_code == 204
    assert rs.get(f"/v2/cleanups/{c['id']}/errors").json()["count"] == 0
    assert event_names(rs, c)[-1] == "cleanup_stop_request"
    events = rs.get(f"/v2/cleanups/{c['id']}/events").json()
    assert [e["event"] for e in events["events"]][-1] == "cleanup_stop_request"
    other = {"X-Auth-Project-Id": "777"}
    assert rs.get("/v2/cleanups", headers=other).json() == {"cleanups": []}
    mine = rs.post("/v2/cleanups", json={"agent_id": AGENT, "state": "start_requested"},
                   headers=other).json()
    assert mine["project_id"] == "777"
    assert rs.get(f"/v2/777/cleanups/{mine['id']}", headers=other).status_code == 200


def test_an_agent_progress_report_takes_over_without_going_back(rs: Api, server: MockServer) -> None:
    c = create(rs)
    server.clock.advance(4.5)  # half of the work done by the simulated agent
    before = get(rs, c)
    assert patch(rs, c, ("/state", "in_progress")).status_code == 204
    server.clock.advance(3600)
    held = get(rs, c)
    assert held["state"] == "in_progress" and held["bytes_after"] == before["bytes_after"]
    assert patch(rs, c, ("/state", "completed")).status_code == 204
    done = get(rs, c)
    assert done["state"] == "completed" and done["bytes_after"] < held["bytes_after"]
    assert done["ended_time"] == "2026-01-01T01:00:04.500000Z"


def test_result_fields_alone_also_take_over(rs: Api, server: MockServer) -> None:
    c = create(rs)
    server.clock.advance(3)
    assert patch(rs, c, ("/bytes_before", 2048)).status_code == 204
    server.clock.advance(3600)
    held = get(rs, c)
    assert held["state"] == "in_progress" and held["bytes_before"] == 2048
    assert patch(rs, c, ("/state", "stop_requested")).status_code == 204
    server.clock.advance(3600)  # the agent has to confirm the stop
    assert get(rs, c)["state"] == "stop_requested"


# ---- the domain: a cleanup never goes back, whatever is reported when ----

_ORDER = {"start_requested": 0, "start_scheduled": 0, "queued": 1, "in_progress": 2,
          "stop_requested": 3, "completed": 4, "completed_with_errors": 4, "failed": 4,
          "stopped": 4}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=4),
                          st.sampled_from([*sorted(_ORDER), "/snapshot_ids"])), max_size=12),
       st.sampled_from([None, "completed_with_errors", "failed"]))
def test_state_and_results_never_go_back(steps: list[tuple[float, str]], outcome: str | None) -> None:
    from mock_server.domain import jobs
    from mock_server.domain.errors import MockError
    from mock_server.domain.store import IdSequence, Tenant
    from mock_server.timefmt import rs_time
    from mock_server.vendors.rackspace.cleanups import PatchOp, apply, update
    from mock_server.vendors.rackspace.results import events, results

    lc = LIFECYCLES[KIND]
    tenant = Tenant(("ns", "rs", "1"), IdSequence(7))
    start = 1_767_225_600.0  # real magnitudes: an ulp here is 2e-7 s
    job = jobs.launch(tenant, KIND, lc, Settings(), start, {"agent_id": AGENT}, 0, rackspace=True)
    if outcome:
        set_outcome(tenant, lc, job, outcome)
    now, last, seen_before = start, None, None
    for dt, target in steps:
        now += dt
        try:
            op = PatchOp(target, [1]) if target.startswith("/") else PatchOp("/state", target)
            apply(tenant, job, update(lc, job, [op], now), now)
        except MockError as err:
            assert err.status in (400, 409)
        seen = jobs.view(lc, job, now)
        res = results(7, lc, job, seen)
        ids = [e.id for e in events(seen)]
        assert ids == sorted(set(ids))
        shown = [(e.event, e.id, rs_time(e.at), e.at) for e in events(seen)]  # never rewritten
        if last is not None:
            assert _ORDER[seen.status] >= _ORDER[last[0]]
            if last[0] in lc.terminal:
                assert seen.status == last[0]
            assert res.bytes_after <= last[1].bytes_after or last[1].bytes_after == 0
            assert res.errors.count >= last[1].errors.count
            assert seen_before is not None and shown[: len(seen_before)] == seen_before
        last, seen_before = (seen.status, res), shown
