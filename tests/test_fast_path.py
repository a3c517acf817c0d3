"""Ended jobs shown again from the render cache, whole (the fast path) or as list items, never
outlive what they show."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer

from mock_server import MockServer, Settings, fast_path
from mock_server.app import create_app
from mock_server.domain.clock import VirtualClock
from mock_server.keys import RENDERS
from mock_server.timefmt import parse_time
from mock_server.vendors.commercelayer.auth import encode

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api
from .fixtures.records import create


def _ended(cl: Api, server: MockServer, kind: str = "exports",
           clock: VirtualClock | None = None) -> str:
    """A completed job; `clock` is the one its namespace runs on (the server's by default)."""
    attrs: dict[str, Any] = {"resource_type": "skus"}
    if kind == "imports":
        attrs["inputs"] = [{"code": "HOT1", "name": "Hot shirt"}]
    job_id = str(create(cl, kind, **attrs)["data"]["id"])
    for _ in range(3600):
        status = cl.get(f"/api/{kind}/{job_id}").json()["data"]["attributes"]["status"]
        if status not in ("pending", "in_progress"):
            break
        (clock or server.clock).advance(1)
    assert status == "completed"
    return job_id


def _reused(server: MockServer) -> int:
    assert server.fast_path is not None
    return server.fast_path.reused


def _kept(server: MockServer, what: str) -> int:
    """How many renderings the cache keeps: whole answers, or list items."""
    return sum(1 for key in server.app[RENDERS].keys() if key[0] == what)


def _expires(url: str) -> int:
    return int(parse_qs(urlparse(url).query)["expires"][0])


@pytest.mark.parametrize("kind", ["imports", "exports"])
def test_an_ended_job_read_again_is_the_same_answer_and_is_journaled(
        cl: Api, server: MockServer, kind: str) -> None:
    job_id = _ended(cl, server, kind)
    first = cl.get(f"/api/{kind}/{job_id}")
    before = _reused(server)
    again = [cl.get(f"/api/{kind}/{job_id}") for _ in range(3)]
    assert _reused(server) == before + 3
    assert all(r.status_code == 200 and r.content == first.content for r in again)
    assert all(r.headers["Content-Type"] == first.headers["Content-Type"] for r in again)
    journal = server.controls.journal.entries(method="GET", path=f"/api/{kind}/{job_id}")
    assert [e.status for e in journal[-4:]] == [200] * 4
    assert journal[-1].response_body == first.content.decode()
    assert journal[-1].operation == ("getImport" if kind == "imports" else "getExport")


def test_reads_through_a_namespace_prefix_are_reused_in_that_namespace(
        server: MockServer, checker: ResponseChecker) -> None:
    handle = server.namespace("hot-ns")
    api = Api(handle.url, checker, {"Authorization": f"Bearer {handle.token()}",
                                    "Accept": JSONAPI, "Content-Type": JSONAPI})
    job_id = _ended(api, server, clock=handle.clock)
    first = api.get(f"/api/exports/{job_id}")
    before = _reused(server)
    again = api.get(f"/api/exports/{job_id}")
    assert _reused(server) == before + 1 and again.content == first.content
    assert again.json()["data"]["links"]["self"].startswith(handle.url + "/api/exports/")
    last = handle.journal.entries(method="GET")[-1]
    assert (last.path, last.status) == (f"/api/exports/{job_id}", 200)
    outside = requests.get(f"{server.url}/api/exports/{job_id}", timeout=10, headers={
        "Authorization": f"Bearer {server.token()}", "Accept": JSONAPI})
    assert outside.status_code == 404  # without the prefix: another namespace's path


def test_a_running_job_is_rendered_on_every_read(cl: Api, server: MockServer) -> None:
    job_id = str(create(cl, "exports", resource_type="skus")["data"]["id"])
    before = _reused(server)
    seen = [cl.get(f"/api/exports/{job_id}").json()["data"]["attributes"]["status"]
            for _ in range(2)]
    while seen[-1] == "pending":
        server.clock.advance(0.25)
        seen += [cl.get(f"/api/exports/{job_id}").json()["data"]["attributes"]["status"]
                 for _ in range(2)]
    assert seen[-2:] == ["in_progress", "in_progress"]
    assert _reused(server) == before


def test_the_download_link_is_signed_again_in_each_virtual_second(
        cl: Api, server: MockServer) -> None:
    job_id = _ended(cl, server)
    url = cl.get(f"/api/exports/{job_id}").json()["data"]["attributes"]["attachment_url"]
    assert cl.get(f"/api/exports/{job_id}").json()["data"]["attributes"]["attachment_url"] == url
    server.clock.advance(0.25)
    fresh = cl.get(f"/api/exports/{job_id}").json()["data"]["attributes"]["attachment_url"]
    assert _expires(fresh) == _expires(url) + 1000


@pytest.mark.parametrize("change", ["metadata", "delete", "reset"])
def test_a_change_to_an_ended_job_shows_on_the_next_read(
        cl: Api, server: MockServer, admin: Api, change: str) -> None:
    job_id = _ended(cl, server)
    path = f"/api/exports/{job_id}"
    cl.get(path), cl.get(path)  # the second read is a reused answer
    if change == "metadata":
        body = {"data": {"type": "exports", "id": job_id, "attributes": {"metadata": {"k": "v"}}}}
        assert cl.patch(path, json=body).status_code == 200
        assert cl.get(path).json()["data"]["attributes"]["metadata"] == {"k": "v"}
    elif change == "delete":
        assert cl.delete(path).status_code == 204
        assert cl.get(path).status_code == 404
    else:
        assert admin.post("/_mock/reset", json={}).status_code == 200
        assert cl.get(path).status_code == 404


def test_an_interrupted_job_started_again_runs_on_the_next_read(
        cl: Api, server: MockServer) -> None:
    job_id = str(create(cl, "exports", resource_type="skus")["data"]["id"])
    path = f"/api/exports/{job_id}"
    body = {"data": {"type": "exports", "id": job_id, "attributes": {"_interrupt": True}}}
    assert cl.patch(path, json=body).status_code == 200
    server.clock.advance(60)
    assert cl.get(path).json()["data"]["attributes"]["status"] == "interrupted"
    cl.get(path)
    body["data"]["attributes"] = {"_start": True}
    assert cl.patch(path, json=body).status_code == 200
    assert cl.get(path).json()["data"]["attributes"]["status"] in ("pending", "in_progress")


def test_a_fault_rule_armed_later_applies_to_the_next_read(
        cl: Api, server: MockServer, admin: Api) -> None:
    job_id = _ended(cl, server)
    path = f"/api/exports/{job_id}"
    cl.get(path), cl.get(path)
    assert admin.post("/_mock/faults", json={"path": "/api/exports/*", "status": 503}).status_code == 201
    r = requests.get(server.url + path, headers=dict(cl.headers), timeout=10)  # 503: off-contract
    assert r.status_code == 503 and r.json()["errors"][0]["status"] == "503"


@pytest.mark.parametrize("header, value, status", [
    ("Accept", "text/html", 406),
    ("Authorization", "Bearer not-a-jwt", 401),
    ("X-Mock-Namespace", "elsewhere", 404),
])
def test_another_request_gets_its_own_answer(cl: Api, server: MockServer, header: str,
                                             value: str, status: int) -> None:
    job_id = _ended(cl, server)
    path = f"/api/exports/{job_id}"
    cl.get(path), cl.get(path)
    assert cl.get(path, headers={header: value}).status_code == status


def test_links_follow_the_host_the_client_used(cl: Api, server: MockServer) -> None:
    job_id = _ended(cl, server)
    path = f"/api/exports/{job_id}"
    cl.get(path), cl.get(path)
    other = cl.get(path, headers={"Host": "mock.example:9999"}).json()["data"]
    assert other["links"]["self"].startswith("http://mock.example:9999/api/exports/")
    assert other["attributes"]["attachment_url"].startswith("http://mock.example:9999/_files/")


def test_a_reset_lets_go_of_every_answer_about_what_it_dropped(
        cl: Api, server: MockServer, admin: Api) -> None:
    ids = [_ended(cl, server) for _ in range(2)]
    for job_id in ids:
        cl.get(f"/api/exports/{job_id}")
    assert _kept(server, "answer") >= 2
    assert admin.post("/_mock/reset", json={}).status_code == 200
    assert cl.get(f"/api/exports/{ids[0]}").status_code == 404
    assert _kept(server, "answer") == 0  # nothing about the reset tenants is kept alive


def _serve(clock: VirtualClock, test: Callable[[str], Any], middleware: Any = None) -> None:
    async def main() -> None:
        app = create_app(Settings(seed=7), clock=clock)
        if middleware is not None:
            app.middlewares.append(middleware)  # a user's own middleware, added as aiohttp allows
        server = TestServer(app)
        await server.start_server()
        assert server.runner is not None
        fast_path.install(server.runner)
        try:
            await test(str(server.make_url("")))
        finally:
            await server.close()

    asyncio.run(main())


async def _ended_export(session: aiohttp.ClientSession, clock: VirtualClock) -> str:
    """The path of an export created now and ended an hour later on `clock`."""
    body = {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}}
    async with session.post("/api/exports", json=body) as r:
        path = f"/api/exports/{(await r.json())['data']['id']}"
    clock.advance(3600)
    return path


_CL_TOKEN_CLAIMS = {"organization": {"id": "id-acme", "slug": "acme"}, "test": True,
                    "application": {"id": "app1", "kind": "integration", "client_id": "c1"}}


def test_a_middleware_that_did_not_declare_itself_is_never_skipped() -> None:
    clock = VirtualClock(start=parse_time(START_ISO), frozen=True)
    headers = {"Authorization": f"Bearer {encode(_CL_TOKEN_CLAIMS)}", "Accept": JSONAPI,
               "Content-Type": JSONAPI}
    stamped = iter(range(1, 100))

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        resp = await handler(request)
        resp.headers["X-Seen"] = str(next(stamped))
        return resp  # type: ignore[no-any-return]

    async def test(base: str) -> None:
        async with aiohttp.ClientSession(base, headers=headers) as s:
            path = await _ended_export(s, clock)
            seen = []
            for _ in range(3):
                async with s.get(path) as r:
                    assert r.status == 200 and (await r.json())["data"]["attributes"]["status"] \
                        == "completed"
                    seen.append(r.headers["X-Seen"])
            assert seen == ["2", "3", "4"]  # the middleware ran for every read

    _serve(clock, test, stamp)


def test_a_token_that_expired_since_is_refused() -> None:
    wall = [1_800_000_000.0]
    clock = VirtualClock(start=parse_time(START_ISO), frozen=True, real=lambda: wall[0])
    token = encode({**_CL_TOKEN_CLAIMS, "exp": int(wall[0]) + 60})
    headers = {"Authorization": f"Bearer {token}", "Accept": JSONAPI, "Content-Type": JSONAPI}

    async def test(base: str) -> None:
        async with aiohttp.ClientSession(base, headers=headers) as s:
            path = await _ended_export(s, clock)
            for _ in range(2):
                async with s.get(path) as r:
                    assert r.status == 200
            wall[0] += 61
            async with s.get(path) as r:
                assert r.status == 401
                assert "expired" in (await r.json())["errors"][0]["detail"]

    _serve(clock, test)



def _page(cl: Api, **params: str) -> list[dict[str, Any]]:
    r = cl.get("/api/exports", params={"sort": "-created_at", **params})
    assert r.status_code == 200, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


def test_a_list_page_shows_ended_jobs_as_they_are_now(cl: Api, server: MockServer) -> None:
    ids = [_ended(cl, server) for _ in range(2)]
    first = _page(cl)
    assert _kept(server, "item") == 2 and _page(cl) == first  # kept, and shown the same
    body = {"data": {"type": "exports", "id": ids[0], "attributes": {"reference": "changed"}}}
    assert cl.patch(f"/api/exports/{ids[0]}", json=body).status_code == 200
    assert {d["id"]: d["attributes"]["reference"] for d in _page(cl)}[ids[0]] == "changed"
    server.clock.advance(0.25)
    links = [d["attributes"]["attachment_url"] for d in _page(cl)]
    assert [_expires(u) for u in links] == [_expires(d["attributes"]["attachment_url"]) + 1000
                                           for d in first]
    assert cl.delete(f"/api/exports/{ids[1]}").status_code == 204
    assert [d["id"] for d in _page(cl)] == [ids[0]]


def test_a_list_page_keeps_fields_hosts_and_includes_apart(cl: Api, server: MockServer) -> None:
    job_id = _ended(cl, server)
    full = _page(cl)
    assert set(_page(cl, **{"fields[exports]": "status"})[0]["attributes"]) == {"status"}
    assert set(_page(cl)[0]["attributes"]) == set(full[0]["attributes"])
    other = cl.get("/api/exports", headers={"Host": "mock.example:9999"}).json()["data"][0]
    assert other["links"]["self"] == f"http://mock.example:9999/api/exports/{job_id}"
    embedded = cl.get("/api/exports", params={"include": "events"}).json()
    assert embedded["data"][0]["relationships"]["events"]["data"]
    assert {i["type"] for i in embedded["included"]} == {"events"}
    assert "data" not in _page(cl)[0]["relationships"]["events"]  # no include: links only
