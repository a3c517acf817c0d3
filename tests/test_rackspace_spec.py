"""Rackspace and the documentation: the documented payloads and requests work as written."""

from __future__ import annotations

import json
from typing import Any

from mock_server import MockServer
from mock_server.keys import SPEC

from .fixtures.http import Api
from .fixtures.rackspace import (
    AGENT,
    BASE,
    DOC,
    PATCH_JSON,
    create,
    event_names,
)

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
