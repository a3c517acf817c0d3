"""A Rackspace Cloud Backup client (opaque X-Auth-Token, plain urllib) isolated by the URL alone."""

from __future__ import annotations

import json
import urllib.request

import pytest

AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"  # the agent of the vendor's documented examples


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "X-Auth-Token": "any-token", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("cleanups", [1, 2])
def test_cleanup_runs_to_completion(mock_server, cleanups):
    mock_server.clock.freeze()
    base = f"{mock_server.url}/v2/123456/cleanups"
    ids = [call("POST", base, {"agent_id": AGENT, "state": "start_requested"})["id"]
           for _ in range(cleanups)]
    mock_server.clock.advance(60)
    listed = call("GET", base)["cleanups"]
    assert sorted(c["id"] for c in listed) == sorted(ids)  # nothing from other tests
    assert {c["state"] for c in listed} == {"completed"}
