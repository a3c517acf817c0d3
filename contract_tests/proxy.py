"""DefectProxy: sits between the suite and a clean server and breaks one thing, for self-tests.

Test-only transport: the defects themselves (what each one breaks) are in defects.py.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

from .defects import DEFECTS, Defect, Reply
from .threaded import ThreadedApp

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
        "upgrade", "proxy-connection", "te", "trailer"}


class DefectProxy:
    """`DefectProxy(upstream, defect).start()` serves on a free port in a thread until stop()."""

    def __init__(self, upstream: str, defect: str, host: str = "127.0.0.1") -> None:
        if defect not in DEFECTS:
            raise ValueError(f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
        self.upstream = upstream.rstrip("/")
        self.defect = Defect(defect)
        self._client: aiohttp.ClientSession | None = None
        self._server = ThreadedApp(self._app, "defect-proxy", self._close, host)

    @property
    def url(self) -> str:
        """Base URL of the proxy."""
        return self._server.url

    async def _app(self) -> web.Application:
        self._client = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _close(self) -> None:
        if self._client is not None:
            await self._client.close()

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
        reply = await self.defect.before(self.forward, request.method, request.path_qs,
                                         headers, body)
        if reply is None:
            reply = await self.forward(request.method, request.path_qs, headers, body)
        self.defect.after(request.method, request.path, reply)
        if not reply.raw and reply.body is not None:
            reply.raw = json.dumps(reply.body).encode()
        return web.Response(status=reply.status, body=reply.raw, headers=reply.headers)

    def start(self) -> DefectProxy:
        """Serve; returns once the port is bound."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()
