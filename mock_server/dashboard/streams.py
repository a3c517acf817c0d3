"""Streams: the open dashboard event streams of one app, ended at once when it stops."""

from __future__ import annotations

import asyncio

from aiohttp import web


class Streams:
    """The open event streams of one app, told to end when it stops."""

    def __init__(self) -> None:
        self._open: set[asyncio.Event] = set()

    def open(self) -> asyncio.Event:
        """A new stream's stop signal."""
        stop = asyncio.Event()
        self._open.add(stop)
        return stop

    def done(self, stop: asyncio.Event) -> None:
        """A stream ended."""
        self._open.discard(stop)

    async def close(self, app: web.Application | None = None) -> None:
        """End every stream now (an aiohttp on_shutdown callback)."""
        for stop in self._open:
            stop.set()
