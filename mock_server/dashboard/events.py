"""GET /_mock/ (the page) and GET /_mock/events: server-sent events that keep open dashboards
live. `changed` goes out when jobs change or a clock moves (at most five times a second), `tick`
every second otherwise; every stream ends at once when the server stops."""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from typing import Any

from aiohttp import web

from ..domain.changes import Change, ClockMoved
from ..handlers import handles
from ..keys import CLOCK, STORE, STREAMS
from ..timefmt import cl_time
from ..validation import Call

TICK = 1.0  # seconds between ticks (in-progress rows move on the clock)
CALM = 0.2  # seconds at least between two `changed` events
PAGE = resources.files(__package__).joinpath("page.html").read_bytes()


@handles("adminDashboard")
async def dashboard(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/: the page."""
    return web.Response(body=PAGE, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def _send(resp: web.StreamResponse, event: str, data: dict[str, Any]) -> None:
    await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())


@handles("adminEvents")
async def events(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/events: `changed` and `tick` until the client goes or the server stops."""
    app = request.app
    clock, streams = app[CLOCK], app[STREAMS]
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    seen = {"jobs": 0, "clock": False}

    def heard(change: Change) -> None:  # on whichever thread made the change: noted, and
        first = not (seen["jobs"] or seen["clock"])  # the loop woken once per burst
        if isinstance(change, ClockMoved):
            seen["clock"] = True
        else:
            seen["jobs"] += 1
        if first:
            loop.call_soon_threadsafe(wake.set)

    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    stop = streams.open()
    unsubscribe = app[STORE].feed.subscribe(heard)
    try:
        await _send(resp, "tick", {"now": cl_time(clock.now())})
        while not stop.is_set():
            woke = asyncio.ensure_future(wake.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({woke, stopped}, timeout=TICK, return_when=asyncio.FIRST_COMPLETED)
            woke.cancel()
            stopped.cancel()
            if stop.is_set():
                break
            if wake.is_set():
                wake.clear()
                told = dict(seen)
                seen.update(jobs=0, clock=False)
                await _send(resp, "changed", told)
                await asyncio.sleep(CALM)
            else:
                await _send(resp, "tick", {"now": cl_time(clock.now())})
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        unsubscribe()
        streams.done(stop)
    return resp
