"""Repeated GETs of ended jobs, answered before routing from the render cache: the polling fast path.

Clients poll a job until it ends, and fleets of CI runners and dashboards keep reading ended
jobs. A handler that answered such a read offers its answer (`offer`); later requests that are
the same get the same bytes straight from the server's request handler, before aiohttp's router
and middlewares (about half of what such a request otherwise costs). The answer holds while:

- no middleware could change it: each middleware of the app declares whether the fast path may
  skip it and when not (`middlewares.skippable`); an app with an undeclared one gets no fast
  path at all, so a new middleware can never be bypassed by accident;
- the request is the same: a GET without body, the same raw path and query, and the headers the
  answer depends on (`KEY_HEADERS`); its credentials still pass the operation's own
  authenticators (expiry is checked every time);
- the render cache says the job and the time still give it (`render_cache.Stamp`).

Every answer is journaled with the journal middleware's own `record`. Everything else, and
every first read, takes the normal path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from .domain.errors import MockError
from .headers import NAMESPACE_HEADER
from .jsonenc import trimmed
from .keys import AUTHENTICATORS, CLOCK, JOURNAL, RENDERS
from .middlewares import guard_of, never
from .qa.journal import record
from .render_cache import Stamp

OFFER = "mock_fast_path_offer"  # request key: the handler's offer of its answer for reuse
KEY_HEADERS = (hdrs.AUTHORIZATION, hdrs.ACCEPT, NAMESPACE_HEADER, hdrs.HOST, "X-Auth-Token")
_DROPPED = ("Content-Length", "Date", "Server")  # set again for every response

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Offer:
    """A handler's answer about an ended job: what it was made of, and how to journal it."""

    stamp: Stamp
    operation: str
    security: tuple[str, ...]  # the operation's authenticators, checked again on every reuse
    namespace: str  # what the request's namespace header, token or /_ns/ prefix named
    path: str  # as the handler saw it (no /_ns/ prefix): what the journal records


def offer(request: web.Request, stamp: Stamp | None, operation: str, security: tuple[str, ...],
          namespace: str) -> None:
    """Called by a handler whose answer about an ended job (`stamp`) may be given again."""
    if stamp is not None:
        request[OFFER] = Offer(stamp, operation, security, namespace, request.path)


@dataclass(frozen=True, slots=True)
class Answer:
    """A reusable 200 response and the offer that made it."""

    offer: Offer
    body: bytes
    headers: tuple[tuple[str, str], ...]


class FastPath:
    """The server's request handler: known answers at once, everything else to the app."""

    def __init__(self, app: web.Application, handler: Handler) -> None:
        self.handler = handler
        self.reused = 0  # answers given again (for tests and the benchmark)
        self.cache = app[RENDERS]
        self._clock, self._journal = app[CLOCK], app[JOURNAL]
        self._authenticators = app[AUTHENTICATORS]
        guards = [guard_of(mw) for mw in app.middlewares]
        self.enabled = all(g is not None for g in guards)  # an undeclared middleware: never skip
        self._guards = tuple(g for g in guards if g is not None and g is not never)

    def _armed(self) -> bool:
        return any(armed() for armed in self._guards)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != hdrs.METH_GET or not self.enabled or request.body_exists \
                or self._armed():
            return await self.handler(request)
        headers = request.headers
        key = ("answer", request.raw_path, *map(headers.get, KEY_HEADERS))
        found = self.cache.entry(key)
        if found is not None:
            stamp, known = found
            now = self._clock.now(stamp.namespace)
            if stamp.holds(self.cache.store, now):
                again = self._reuse(request, known, now)
                if again is not None:
                    self.reused += 1
                    return again
            else:
                self.cache.drop(key)
        resp = await self.handler(request)
        self._keep(request, key, resp)
        return resp

    def _reuse(self, request: web.BaseRequest, known: Answer, now: float) -> web.Response | None:
        found = known.offer
        started = self._clock.wall()
        try:
            for scheme in found.security:
                self._authenticators[scheme](request.headers, started)
        except MockError:
            return None  # e.g. expired since: the normal path words the 401
        resp = web.Response(body=known.body, headers=known.headers)
        record(self._journal, self._clock, request, found.namespace, found.path,
               at=now, started=started, operation=found.operation,
               status=200, resp=resp, kept=True)
        return resp

    def _keep(self, request: web.BaseRequest, key: tuple[str | None, ...],
              resp: web.StreamResponse) -> None:
        found = request.get(OFFER)
        if found is None or resp.status != 200 or type(resp) is not web.Response or self._armed():
            return
        body = resp.body
        if isinstance(body, bytes):
            kept = tuple((k, v) for k, v in resp.headers.items() if k not in _DROPPED)
            self.cache.put(key, found.stamp, Answer(found, trimmed(body), kept))


def install(runner: web.AppRunner) -> FastPath:
    """Put the fast path in front of a set-up runner's application (before any connection)."""
    fast = FastPath(runner.app, runner.server.request_handler)  # type: ignore[union-attr]
    runner.server.request_handler = fast  # type: ignore[union-attr]
    return fast
