"""Under load and at shutdown: 100 clients over both vendors lose and duplicate nothing, counts
are exact and no job moves backwards; SIGTERM lets the requests in flight finish."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from mock_server import MockServer, Settings

from ..fixtures.http import JSONAPI, START_ISO, make_token

CLIENTS, EACH = 100, 4
CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}
RS = {"X-Auth-Token": "0f6e9f63600142f0a970911583522217", "Content-Type": "application/json"}
AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"
CL_ORDER = {"pending": 0, "in_progress": 1, "completed": 2, "interrupted": 2, "failed": 2}
RS_ORDER = {"start_requested": 0, "start_scheduled": 0, "queued": 1, "in_progress": 2,
            "completed": 3, "completed_with_errors": 3, "failed": 3}


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, frozen=False, speed=20, start=START_ISO,
                             limits=False)) as s:
        yield s


def _client(server: MockServer, n: int) -> list[tuple[str, str]]:
    """One client: creates EACH jobs (Commerce Layer or Rackspace) and polls each once."""
    made: list[tuple[str, str]] = []
    with requests.Session() as http:
        for i in range(EACH):
            if n % 2:
                r = http.post(f"{server.url}/v2/123456/cleanups", headers=RS, timeout=60,
                              json={"agent_id": AGENT, "state": "start_requested"})
                assert r.status_code == 201, r.text
                made.append(("rs", r.json()["id"]))
            else:
                body = {"data": {"type": "exports", "attributes": {
                    "resource_type": "skus", "reference": f"c{n}-{i}"}}}
                r = http.post(f"{server.url}/api/exports", headers=CL, data=json.dumps(body),
                              timeout=60)
                assert r.status_code == 201, r.text
                made.append(("cl", r.json()["data"]["id"]))
    return made


def _status(server: MockServer, vendor: str, job_id: str) -> int:
    if vendor == "rs":
        r = requests.get(f"{server.url}/v2/123456/cleanups/{job_id}", headers=RS, timeout=60)
        return RS_ORDER[r.json()["state"]]
    r = requests.get(f"{server.url}/api/exports/{job_id}", headers=CL, timeout=60)
    return CL_ORDER[r.json()["data"]["attributes"]["status"]]


def test_a_hundred_clients_over_both_vendors_lose_nothing(server: MockServer) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        made = [job for jobs in pool.map(lambda n: _client(server, n), range(CLIENTS))
                for job in jobs]
    assert len(made) == CLIENTS * EACH and len(set(made)) == len(made)  # none lost or twice
    cl = {j for v, j in made if v == "cl"}
    rs = {j for v, j in made if v == "rs"}
    listed_cl = requests.get(f"{server.url}/api/exports", headers=CL, timeout=60,
                             params={"page[size]": 1}).json()["meta"]["record_count"]
    assert listed_cl == len(cl)
    listed_rs: set[str] = set()
    marker = None
    while True:
        page = requests.get(f"{server.url}/v2/123456/cleanups", headers=RS, timeout=60,
                            params={"limit": 100, **({"marker": marker} if marker else {})}).json()
        listed_rs |= {c["id"] for c in page["cleanups"]}
        if len(page["cleanups"]) < 100:
            break
        marker = page["cleanups"][-1]["id"]
    assert listed_rs == rs
    # polled again and again while the clock runs, no job ever moves backwards
    sample = made[:: max(1, len(made) // 40)]
    seen = {job: _status(server, *job) for job in sample}
    for _ in range(3):
        requests.post(f"{server.url}/_mock/clock", json={"advance": 1}, timeout=60)
        for job in sample:
            now = _status(server, *job)
            assert now >= seen[job], job
            seen[job] = now


def test_sigterm_lets_the_requests_in_flight_finish(tmp_path: Path) -> None:
    config = tmp_path / "slow.yaml"
    config.write_text("faults:\n  - {path: /api/exports, latency: 2}\n")
    child = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--quiet", "--port", "0",
                              "--config", str(config)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        where = urlsplit(child.stdout.readline().split()[-1])
        host, port = where.hostname or "127.0.0.1", where.port or 80
        head = "".join(f"{k}: {v}\r\n" for k, v in CL.items())
        request = f"GET /api/exports HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode()
        clients = [socket.create_connection((host, port), timeout=60) for _ in range(20)]
        for sock in clients:
            sock.sendall(request)
        # the 20 are held by the 2 s latency: stop the server once it has read every one of them
        # (20 connections on its port, nothing left unread in their receive queues)
        while _unread(port) != (20, 0):
            threading.Event().wait(0.01)
        child.send_signal(signal.SIGTERM)
        statuses = []
        for sock in clients:
            answer = http.client.HTTPResponse(sock)
            answer.begin()
            statuses.append(answer.status)
            json.loads(answer.read())
            sock.close()
        assert statuses == [200] * 20
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()


def _unread(port: int) -> tuple[int, int]:
    """The server's connections on `port` and the bytes it has not read yet, from the kernel's
    table of TCP sockets (connections waiting to be accepted included)."""
    connections = unread = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if int(local.split(":")[1], 16) == port and state == "01":  # ESTABLISHED
            connections += 1
            unread += int(queues.split(":")[1], 16)
    return connections, unread
