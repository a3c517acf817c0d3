"""An aiohttp app served from a thread of its own, on a free loopback port (test helpers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web


class ThreadedApp:
    """`ThreadedApp(build).start()` serves what `build()` returns until stop(); `on_stop` runs
    in the app's loop first (e.g. to close a client session)."""

    def __init__(self, build: Callable[[], Awaitable[web.Application]], name: str,
                 on_stop: Callable[[], Awaitable[None]] | None = None,
                 host: str = "127.0.0.1") -> None:
        self.build, self.name, self.on_stop, self.host = build, name, on_stop, host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the app."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedApp:
        """Serve; returns once the port is bound."""
        ready = threading.Event()

        async def boot() -> None:
            self._runner = web.AppRunner(await self.build(), access_log=None,
                                         handle_signals=False)
            await self._runner.setup()
            await web.TCPSite(self._runner, self.host, 0).start()
            self.port = self._runner.addresses[0][1]

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Stop serving and close the loop."""
        if self._thread is None:
            return

        async def shutdown() -> None:
            if self.on_stop is not None:
                await self.on_stop()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None
