"""Tenants (organizations, projects) are capped: a mock that already holds `max_tenants` refuses a
new one with a 429 in the API's format, and a reset makes room. A reset's memory is reused: a
server that forgets its tenants and takes as many new ones again does not grow."""

from __future__ import annotations

from pathlib import Path

import requests

from mock_server import MockServer, Settings

from ..fixtures.durability import Child
from ..fixtures.http import JSONAPI, START_ISO, make_token


def _cl(url: str, org: str) -> requests.Response:
    return requests.get(f"{url}/api/imports", timeout=30, headers={
        "Authorization": f"Bearer {make_token(org)}", "Accept": JSONAPI})


def _rs(url: str, project: str) -> requests.Response:
    return requests.get(f"{url}/v2/{project}/cleanups", timeout=30,
                        headers={"X-Auth-Token": "0f6e9f63600142f0a970911583522217"})


def test_a_new_tenant_beyond_the_cap_is_refused_until_a_reset() -> None:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO, max_tenants=3)) as s:
        assert _cl(s.url, "one").status_code == 200
        assert _cl(s.url, "two").status_code == 200
        assert _rs(s.url, "123456").status_code == 200
        assert _cl(s.url, "one").status_code == 200  # one already held: still served
        refused = _cl(s.url, "four")
        assert refused.status_code == 429
        [error] = refused.json()["errors"]
        assert error["status"] == "429" and "max_tenants" in error["detail"]
        refused = _rs(s.url, "654321")
        assert refused.status_code == 429 and "max_tenants" in refused.json()["message"]
        assert requests.post(f"{s.url}/_mock/reset", timeout=30).status_code == 200
        assert _cl(s.url, "four").status_code == 200


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_reset_makes_room_that_new_tenants_reuse() -> None:
    child = Child("--frozen")
    try:
        session = requests.Session()

        def fill(prefix: str, n: int = 500) -> None:
            for i in range(n):
                r = session.get(f"{child.url}/api/imports", timeout=30, headers={
                    "Authorization": f"Bearer {make_token(f'{prefix}{i}')}", "Accept": JSONAPI})
                assert r.status_code == 200

        fill("warm", 20)
        base = _rss_kib(child.proc.pid)
        fill("first")
        first = _rss_kib(child.proc.pid) - base
        assert session.post(f"{child.url}/_mock/reset", timeout=30).json()["tenants"] == 520
        fill("second")
        second = _rss_kib(child.proc.pid) - base
        assert first > 5_000, first  # 500 organizations cost megabytes: the probe measures
        assert second < first * 1.25, (first, second)  # …and the second 500 reuse them
    finally:
        child.stop()
