"""DefectProxy: sits between the suite and a clean server and breaks one thing, for self-tests.

Test-only: the suite must fail when an implementation is wrong, so each named defect below
makes the (clean) mock wrong in exactly one way. Keeping the switches here keeps them out of
the product. Defects keep responses otherwise consistent, so only the intended rule can see them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from aiohttp import web

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
        "upgrade", "proxy-connection", "te", "trailer"}
_FIRST = {"pending": "pending", "in_progress": "pending", "queued": "start_requested"}


@dataclass
class Reply:
    """A response on its way back: status, headers and (when JSON) the parsed body."""

    status: int
    headers: dict[str, str]
    raw: bytes
    body: Any = None

    def json_body(self) -> Any:
        """The body as JSON (None if it is not)."""
        if self.body is None and self.raw:
            try:
                self.body = json.loads(self.raw)
            except ValueError:
                self.body = None
        return self.body


@dataclass
class Defect:
    """One way to be wrong: `before` may answer instead of the server, `after` edits replies."""

    name: str
    seen: Counter[str] = field(default_factory=Counter)
    credentials: dict[str, str] = field(default_factory=dict)

    async def before(self, proxy: DefectProxy, method: str, path: str, headers: dict[str, str],
                     body: bytes) -> Reply | None:
        if self.name == "auth_not_enforced":
            for name in ("Authorization", "X-Auth-Token"):
                if headers.get(name):
                    self.credentials[name] = headers[name]  # remember a caller's valid token
            if not any(headers.get(n) for n in ("Authorization", "X-Auth-Token")):
                # the mock takes any X-Auth-Token; a bearer is learnt from /oauth/token replies
                headers.update({"X-Auth-Token": "proxy-token", **self.credentials})
        if self.name == "interrupt_ignored" and method == "PATCH" and _is_stop(body):
            if path.startswith("/v2/"):
                return Reply(204, {}, b"")
            return await proxy.forward("GET", path, headers, b"")  # the pre-PATCH body
        return None

    def after(self, method: str, path: str, reply: Reply) -> None:
        if self.name == "auth_not_enforced" and path == "/oauth/token" and reply.status == 200:
            token = (reply.json_body() or {}).get("access_token")
            if isinstance(token, str):
                self.credentials["Authorization"] = f"Bearer {token}"
        edit = _EDITS.get(self.name)
        if edit is not None:
            edit(self, method, path, reply)


def _is_stop(body: bytes) -> bool:
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return False
    if isinstance(doc, dict):
        data = doc.get("data")
        attrs = data.get("attributes") if isinstance(data, dict) else None
        return isinstance(attrs, dict) and attrs.get("_interrupt") is True
    return isinstance(doc, list) and any(
        isinstance(op, dict) and op.get("value") == "stop_requested" for op in doc)


def _jobs(body: Any) -> list[tuple[dict[str, Any], str]]:
    """(attributes dict, status field) of every job object in a body."""
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    out = [(i["attributes"], "status") for i in items
           if isinstance(i, dict) and isinstance(i.get("attributes"), dict)
           and "status" in i["attributes"]]
    listed = body.get("cleanups")
    for obj in listed if isinstance(listed, list) else [body]:
        if isinstance(obj, dict) and "state" in obj and "id" in obj:
            out.append((obj, "state"))
    return out


def _single_get(method: str, path: str, reply: Reply) -> list[tuple[dict[str, Any], str]]:
    body = reply.json_body()
    if method != "GET" or reply.status != 200 or not isinstance(body, dict):
        return []
    if isinstance(body.get("data"), list) or "cleanups" in body:
        return []
    return _jobs(body)


def _status_backwards(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        d.seen[path] += 1
        if attrs.get(key) in ("in_progress", "queued") and d.seen[path] % 2 == 0:
            attrs[key] = _FIRST[attrs[key]]
            for name in ("started_at", "started_time"):
                if name in attrs:
                    attrs[name] = None
            reply.raw = b""


def _terminal_changes(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        d.seen[path] += 1
        if attrs.get(key) == "completed" and d.seen[path] % 2 == 0:
            if key == "state":
                attrs[key] = "failed"
            else:
                attrs.update(status="interrupted", interrupted_at=attrs.get("completed_at"),
                             completed_at=None)
            reply.raw = b""


def _counters_over_totals(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, _ in _jobs(reply.json_body()):
        total = attrs.get("records_count", attrs.get("inputs_size"))
        if isinstance(total, int) and "processed_count" in attrs:
            attrs["processed_count"] = total + 5
            reply.raw = b""


def _wrong_media_type(d: Defect, method: str, path: str, reply: Reply) -> None:
    if path.startswith("/api/") and reply.raw:
        reply.headers["Content-Type"] = "application/json"


def _broken_pagination(d: Defect, method: str, path: str, reply: Reply) -> None:
    body = reply.json_body()
    if method != "GET" or not isinstance(body, dict) or not isinstance(body.get("links"), (dict, list)):
        return
    links = body["links"]
    if isinstance(links, dict) and "next" in links and isinstance(body.get("data"), list):
        del links["next"]  # a gap: the rest of the set is unreachable
        reply.raw = b""
    elif isinstance(links, list):
        items = body.get("cleanups") or body.get("events") or []
        for link in links:
            if link.get("rel") == "next" and items:  # a duplicate: next repeats this page
                split = urlsplit(link["href"])
                query = dict(parse_qsl(split.query))
                query["marker"] = str(items[0]["id"])
                link["href"] = urlunsplit(split._replace(query=urlencode(query)))
                reply.raw = b""


def _undeclared_status(d: Defect, method: str, path: str, reply: Reply) -> None:
    lists = path == "/api/imports" or (path.startswith("/v2/") and path.endswith("/cleanups"))
    if method == "GET" and lists and reply.status == 200:
        reply.status = 418  # body stays a valid error-free list: only the status is wrong


_EDITS: dict[str, Callable[[Defect, str, str, Reply], None]] = {
    "status_backwards": _status_backwards,
    "terminal_changes": _terminal_changes,
    "counters_over_totals": _counters_over_totals,
    "wrong_media_type": _wrong_media_type,
    "broken_pagination": _broken_pagination,
    "undeclared_status": _undeclared_status,
}
DEFECTS = (*_EDITS, "interrupt_ignored", "auth_not_enforced")


class DefectProxy:
    """`DefectProxy(upstream, defect).start()` serves on a free port in a thread until stop()."""

    def __init__(self, upstream: str, defect: str, host: str = "127.0.0.1") -> None:
        if defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
        self.upstream = upstream.rstrip("/")
        self.defect = Defect(defect)
        self.host, self.port = host, 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the proxy."""
        return f"http://{self.host}:{self.port}"

    async def forward(self, method: str, path_qs: str, headers: dict[str, str],
                      body: bytes) -> Reply:
        """Send a request upstream and return its reply."""
        assert self._client is not None
        async with self._client.request(method, self.upstream + path_qs, headers=headers,
                                        data=body or None, allow_redirects=False) as resp:
            raw = await resp.read()
            kept = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP}
            return Reply(resp.status, kept, raw)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        reply = await self.defect.before(self, request.method, request.path_qs, headers, body)
        if reply is None:
            reply = await self.forward(request.method, request.path_qs, headers, body)
        self.defect.after(request.method, request.path, reply)
        if not reply.raw and reply.body is not None:
            reply.raw = json.dumps(reply.body).encode()
        return web.Response(status=reply.status, body=reply.raw, headers=reply.headers)

    def start(self) -> DefectProxy:
        """Serve; returns once the port is bound."""
        ready = threading.Event()

        async def boot() -> None:
            self._client = aiohttp.ClientSession(auto_decompress=False)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name="defect-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._thread is None:
            return

        async def shutdown() -> None:
            if self._client is not None:
                await self._client.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None
