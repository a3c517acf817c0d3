"""Rackspace cleanups over HTTP: the lifecycle on the virtual clock, stop requests, PATCH by agents."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server import MockServer, Settings
from mock_server.keys import SCENARIOS, SPEC
from mock_server.vendors.rackspace.cleanups import KIND

from .fixtures.conformance import ResponseChecker
from .fixtures.http import START_ISO, Api
from .fixtures.rackspace import (
    AGENT,
    BASE,
    PATCH_JSON,
    RS_TIME,
    TERMINAL,
    create,
    event_names,
    get,
    patch,
)


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




# ---- agents taking over ----

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
