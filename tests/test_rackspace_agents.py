"""Rackspace agents: unknown ones, fixture-declared ones, bad agent configuration."""

from __future__ import annotations

import pytest

from mock_server import MockServer, Settings
from mock_server.keys import SPEC

from .fixtures.conformance import ResponseChecker
from .fixtures.http import START_ISO, Api
from .fixtures.rackspace import (
    AGENT,
    BASE,
)


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
