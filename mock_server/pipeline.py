"""The one middleware every request passes, in one frame: what used to be six.

In order, outermost first: a `/_ns/<namespace>` prefix is served as its rest (namespace_path.py);
a vendor request is journaled as the client saw it (qa/journal.py); vendor rate limits and
fault rules apply while any is armed (qa/fault_middleware.py; the common case costs one test);
every MockError and routing error is answered in the vendor's shape (middlewares.py); a write is
answered only once a state file committed it (state/keeper.py); and hooks that render download
links learn the request's absolute base (records/simulation/files.LINK_BASE). The admin API
(`/_mock`) is neither journaled nor faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .domain.clock import VirtualClock
from .middlewares import render_errors, skippable
from .namespace_path import PREFIX, redispatch, request_base, split
from .qa.fault_injection import faulted
from .qa.faults import FaultSet
from .qa.journal import BODY_NOTE, FAULT_NOTE, Journal, is_admin, namespace_of, record
from .qa.ratelimit import RateLimiter
from .records.simulation.files import LINK_BASE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Commit = Callable[[web.Request], Awaitable[None]]  # a write's changes committed (or NotSaved)


def pipeline(journal: Journal, clock: VirtualClock, faults: FaultSet, limiter: RateLimiter,
             public_url: str | None, commit: Commit | None = None) -> Any:
    """The app's only middleware (`commit`: a state file's, answering writes once committed)."""

    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        """The route's answer, its errors in the vendor's shape, its changes committed."""
        token = LINK_BASE.set(request_base(request, public_url))
        try:
            if commit is None:
                return await handler(request)
            try:
                return await handler(request)
            finally:
                await commit(request)
        except Exception as exc:  # noqa: BLE001 - rendered (or re-raised) by render_errors
            return render_errors(request, exc)
        finally:
            LINK_BASE.reset(token)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        raw_path = request.raw_path
        if raw_path.startswith(PREFIX):
            found = split(raw_path)
            if found is not None:  # served again without the prefix, through this middleware
                return await redispatch(request, found)
        path = request.path
        if is_admin(path):
            return await answer(request, handler)
        namespace = namespace_of(request)
        at, started = clock.now(namespace), clock.wall()
        status: int | None = None
        resp: web.StreamResponse | None = None
        try:
            if faults.armed or limiter.enabled:
                resp = await faulted(request, lambda r: answer(r, handler), faults, limiter,
                                     clock, namespace)
            else:
                resp = await answer(request, handler)
            status = resp.status
            return resp
        except web.HTTPException as exc:  # e.g. 413 raised by aiohttp itself
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = None  # a broken connection (injected or the client went away)
            raise
        finally:
            route = request.match_info.route
            record(journal, clock, request, namespace, path, at=at, started=started,
                   operation=route.name if route.resource is not None else None, status=status,
                   resp=resp, request_body=request.get(BODY_NOTE),  # None: never read
                   fault=request.get(FAULT_NOTE))

    return skippable(middleware, unless=lambda: faults.armed or limiter.enabled)
