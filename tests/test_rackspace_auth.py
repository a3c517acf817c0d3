"""Rackspace auth over HTTP: tokens, roles, projects kept apart, paths without a project."""

from __future__ import annotations

from mock_server import MockServer
from mock_server.keys import STORE
from mock_server.vendors.rackspace.cleanups import KIND

from .fixtures.http import Api
from .fixtures.rackspace import (
    AGENT,
    BASE,
    create,
    patch,
)

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


def test_store_keeps_cleanups_per_project(rs: Api, server: MockServer) -> None:
    c = create(rs)
    tenants = [t for t in server.app[STORE].tenants() if t.key[1] == "rs"]
    assert [t.key for t in tenants] == [("default", "rs", "123456")]
    assert [j.id for j in tenants[0].scan(KIND)] == [c["id"]]
