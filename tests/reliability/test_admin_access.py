"""The admin API and the dashboard answer this machine's clients; other machines only with the
admin token. Through a namespace's /_ns/ prefix, only that namespace. The journal masks
credentials unless asked for them in full."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from mock_server import MockServer, Settings

from ..fixtures.http import JSONAPI, START_ISO, make_token

TOKEN = make_token()
CL = {"Authorization": f"Bearer {TOKEN}", "Accept": JSONAPI}


def _own_address() -> str:
    """This machine's address on its network (not loopback): how another machine reaches it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))  # picks the outgoing interface; sends nothing
        address = s.getsockname()[0]
    assert not address.startswith("127."), "this machine needs a non-loopback address"
    return str(address)


@pytest.fixture(scope="module")
def exposed() -> Iterator[tuple[str, str]]:
    """A server on every interface with an admin token: (its URL from the network, local URL)."""
    settings = Settings(host="0.0.0.0", port=0, frozen=True, start=START_ISO,
                        admin_token="s3cret-admin-token")
    with MockServer(settings) as s:
        yield f"http://{_own_address()}:{s.port}", f"http://127.0.0.1:{s.port}"


def test_other_machines_need_the_admin_token(exposed: tuple[str, str]) -> None:
    remote, local = exposed
    for path in ("/_mock/clock", "/_mock/jobs", "/_mock/requests", "/_mock/"):
        r = requests.get(remote + path, timeout=10)
        assert r.status_code == 403, (path, r.status_code)
        assert "--admin-token" in r.json()["errors"][0]["detail"] or \
            "admin token" in r.json()["errors"][0]["detail"]
    assert requests.post(remote + "/_mock/reset", json={}, timeout=10).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.get(remote + "/_mock/clock", headers=wrong, timeout=10).status_code == 403
    right = {"Authorization": "Bearer s3cret-admin-token"}
    assert requests.get(remote + "/_mock/clock", headers=right, timeout=10).status_code == 200
    page = requests.get(remote + "/_mock/?token=s3cret-admin-token", timeout=10)
    assert page.status_code == 200 and "<html" in page.text
    assert requests.get(local + "/_mock/clock", timeout=10).status_code == 200  # this machine
    assert requests.get(remote + "/api/imports", headers=CL, timeout=10).status_code == 200


def test_without_a_token_only_this_machine_gets_in() -> None:
    with MockServer(Settings(host="0.0.0.0", port=0, frozen=True, start=START_ISO)) as s:
        remote = f"http://{_own_address()}:{s.port}"
        r = requests.get(remote + "/_mock/requests",
                         headers={"Authorization": "Bearer anything"}, timeout=10)
        assert r.status_code == 403 and "--admin-token" in r.json()["errors"][0]["detail"]
        assert requests.get(f"http://127.0.0.1:{s.port}/_mock/clock", timeout=10).ok


def test_serving_on_every_interface_without_a_token_warns_at_start() -> None:
    child = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--quiet", "--host", "0.0.0.0",
                              "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None and child.stderr is not None
        assert "listening" in child.stdout.readline()
        warning = child.stderr.readline()
        assert "warning" in warning and "--admin-token" in warning
    finally:
        child.terminate()
        child.wait(timeout=30)


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO)) as s:
        yield s


def test_the_journal_masks_credentials_unless_asked_in_full(server: MockServer) -> None:
    requests.get(f"{server.url}/api/imports", headers=CL, timeout=10)
    requests.post(f"{server.url}/oauth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": "abc",
        "client_secret": "a-long-client-secret-value"})
    masked = requests.get(f"{server.url}/_mock/requests", timeout=10).json()["requests"]
    listed, token = masked
    assert listed["request"]["headers"]["Authorization"] == f"Bearer {TOKEN[:3]}…{TOKEN[-3:]}"
    assert "a-long-client-secret-value" not in token["request"]["body"]
    assert "client_secret=a-l…lue" in token["request"]["body"]
    issued = requests.get(f"{server.url}/_mock/requests", params={"credentials": "full"},
                          timeout=10).json()["requests"]
    assert issued[0]["request"]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    full = json.loads(issued[1]["response"]["body"])["access_token"]
    assert full.startswith("ey") and "…" not in full
    assert json.loads(token["response"]["body"])["access_token"] == f"{full[:3]}…{full[-3:]}"


def test_a_namespace_prefix_reaches_only_its_own_namespace(server: MockServer) -> None:
    requests.get(f"{server.url}/_ns/victim/api/imports", headers=CL, timeout=10)
    requests.get(f"{server.url}/_ns/me/api/exports", headers=CL, timeout=10)
    mine = requests.get(f"{server.url}/_ns/me/_mock/requests", timeout=10).json()
    assert [e["namespace"] for e in mine["requests"]] == ["me"]
    for path in ("/_mock/requests", "/_mock/jobs", "/_mock/faults"):
        r = requests.get(f"{server.url}/_ns/me{path}", params={"namespace": "victim"},
                         timeout=10)
        assert r.status_code == 403 and "victim" in r.json()["errors"][0]["detail"], path
    r = requests.post(f"{server.url}/_ns/me/_mock/reset", json={"namespace": "victim"},
                      timeout=10)
    assert r.status_code == 403
    whole = requests.get(f"{server.url}/_mock/requests", params={"namespace": "victim"},
                         timeout=10).json()
    assert whole["count"] == 1  # the server's own /_mock/ still sees every namespace
