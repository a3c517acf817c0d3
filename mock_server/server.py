"""MockServer: the app on its own event loop in a thread, for tests and non-async code."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from . import hot_reads
from .app import create_app
from .auth import issue, stable_id
from .clock import VirtualClock
from .handle import NamespaceHandle
from .keys import CLOCK, CONTROLS
from .qa.admin import Controls
from .settings import Settings


class MockServer:
    """`with MockServer() as server:` serves on a free port until the block ends."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings or Settings(port=0)
        self.settings = base.with_overrides(**overrides)
        self.app: web.Application = create_app(self.settings)
        self.clock: VirtualClock = self.app[CLOCK]
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.hot_reads: hot_reads.HotReads | None = None  # the fast path, once serving

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:53817."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def controls(self) -> Controls:
        """The QA controls (clock, reset, job scenarios) the admin API wraps."""
        return self.app[CONTROLS]

    def token(self, org: str = "acme", test: bool = True, *, kind: str = "integration",
              ttl: int = 14400, namespace: str | None = None) -> str:
        """A Commerce Layer JWT (as POST /oauth/token issues) the official clients accept."""
        body = issue(org_slug=org, client_id=stable_id("client", org), kind=kind, test=test,
                     wall_now=self.clock.wall(), ttl=ttl, namespace=namespace)
        return str(body["access_token"])

    def namespace(self, name: str, fresh: bool = False) -> NamespaceHandle:
        """A handle on one namespace: its URL, tokens, own clock and QA controls.

        `fresh` first forgets what the namespace held (data, rules, journal, own clock).
        """
        if fresh:
            self.controls.reset(name)
            self.clock.drop(name)
        return NamespaceHandle(self, name)

    def start(self) -> MockServer:
        """Start serving; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
            await self._runner.setup()
            self.hot_reads = hot_reads.install(self._runner)
            site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
            await site.start()
            self.port = self._runner.addresses[0][1]

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(boot())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name="mock-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
