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


def _hrefs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "href" and isinstance(v, str)] + \
            [h for v in node.values() for h in _hrefs(v)]
    if isinstance(node, list):
        return [h for v in node for h in _hrefs(v)]
    return []


@pytest.mark.parametrize("base", [BASE, "/v2/cleanups"])
def test_every_link_a_cleanup_hands_out_answers(rs: Api, base: str) -> None:
    created = rs.post(base, json={"agent_id": AGENT, "state": "start_requested"}).json()
    hrefs = set(_hrefs(created)) | set(_hrefs(rs.get(f"{base}/{created['id']}/events").json()))
    assert any("/agents/" in h for h in hrefs), hrefs
    for href in sorted(hrefs):
        r = rs.get(href)
        assert r.status_code == 200, (href, r.status_code, r.text)
    agent = rs.get(next(h for h in hrefs if "/agents/" in h)).json()
    assert agent["id"] == AGENT and agent["vault"]["encrypted"] is False


def test_agents_are_listed_per_project_and_unknown_ones_are_404() -> None:
    agents = [{"id": "agent-a", "project_id": "111", "encrypted": True}, {"id": "agent-any"}]
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, extra={"agents": agents})
    with MockServer(settings) as srv:
        checker = ResponseChecker(srv.app[SPEC])
        rs = Api(srv.url, checker, {"X-Auth-Token": "t"})
        listed = {a["id"]: a for a in rs.get("/v2/111/agents").json()["agents"]}
        assert set(listed) == {AGENT, "agent-a", "agent-any"}
        assert listed["agent-a"]["vault"]["encrypted"] is True
        assert listed["agent-a"]["links"][0]["href"].endswith("/v2/111/agents/agent-a")
        assert {a["id"] for a in rs.get("/v2/222/agents").json()["agents"]} == {AGENT,
                                                                                 "agent-any"}
        r = rs.get("/v2/222/agents/agent-a")  # another project's
        assert r.status_code == 404 and r.json() == {"message": "Agent not found."}
        assert not checker.problems, checker.problems


def test_bad_agents_config_fails_at_start_naming_the_key() -> None:
    from mock_server.settings import ConfigError

    with pytest.raises(ConfigError, match=r"agents\[0\]\.id"):
        MockServer(Settings(port=0, extra={"agents": [{"id": ""}]}))
