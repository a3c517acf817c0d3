"""Repeated GETs of ended Commerce Layer jobs, answered before routing: the polling fast path.

Clients poll a job until it ends, and fleets of CI runners and dashboards keep reading ended
jobs. Once a job has ended its JSON:API body stays the same, except for its download link,
which is signed once per virtual second. So the full pipeline renders the answer once and
`get_job` offers it (`offer`); later requests that are the same get the same bytes straight
from the server's request handler, before aiohttp's router and middlewares (about half of what
such a request otherwise costs). An answer is reused only while everything it was made of
still holds:

- nothing is armed that could change an answer: no fault rule, no rate limit;
- the request is the same: a GET without body, the same raw path and query, and the headers the
  answer depends on (`KEY_HEADERS`); its token is still valid (expiry is checked every time);
- the job and the time are the same as far as the answer can tell (`reuse.Ended.holds`).

Every answer is journaled like any other, in the namespace the request named (header, token
or `/_ns/` prefix). Everything else, and every first read, takes the normal path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from .domain.errors import MockError
from .domain.store import Job, Tenant
from .headers import NAMESPACE_HEADER
from .keys import CLOCK, FAULTS, JOURNAL, RATE_LIMITER, STORE
from .reuse import Ended
from .validation import Call
from .vendors.commercelayer.auth import principal

HINT = "mock_hot_read"  # request key: the handler's offer of its answer for reuse
KEY_HEADERS = (hdrs.AUTHORIZATION, hdrs.ACCEPT, NAMESPACE_HEADER, hdrs.HOST)
MAX_ANSWERS = 4096  # oldest dropped first; one answer is the body (~2 KB) and its key
_DROPPED = ("Content-Length", "Date", "Server")  # set again for every response

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Offer:
    """A handler's answer about an ended job: what it was made of, and how to journal it."""

    ended: Ended
    operation: str
    namespace: str  # what the request's namespace header, token or /_ns/ prefix named
    path: str  # as the handler saw it (no /_ns/ prefix): what the journal records


def offer(request: web.Request, call: Call, tenant: Tenant, job: Job) -> None:
    """Called by a handler that answered `call` with `job` as it is now: reusable once it ended."""
    ended = Ended.of(tenant, job, call.now)
    if ended is not None:
        request[HINT] = Offer(ended, call.op.operation_id, call.namespace, request.path)


@dataclass(frozen=True, slots=True)
class Answer:
    """A reusable 200 response and the offer that says when it holds."""

    offer: Offer
    body: bytes
    headers: tuple[tuple[str, str], ...]


class HotReads:
    """The server's request handler: known answers at once, everything else to the app."""

    def __init__(self, app: web.Application, handler: Handler) -> None:
        self.handler = handler
        self.answers: dict[tuple[str | None, ...], Answer] = {}
        self.reused = 0  # answers given from `answers` (for tests and the benchmark)
        self._clock, self._store, self._journal = app[CLOCK], app[STORE], app[JOURNAL]
        self._faults, self._limiter = app[FAULTS], app[RATE_LIMITER]
        self._clears = self._store.clears

    def _armed(self) -> bool:
        return self._faults.armed or self._limiter.enabled

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != hdrs.METH_GET or self._armed() or request.body_exists:
            return await self.handler(request)
        if self._clears != self._store.clears:  # a reset: let go of the tenants it dropped
            self.answers.clear()
            self._clears = self._store.clears
        headers = request.headers
        key = (request.raw_path, *map(headers.get, KEY_HEADERS))
        known = self.answers.get(key)
        if known is not None:
            again = self._reuse(request, key, known)
            if again is not None:
                self.reused += 1
                return again
            self.answers.pop(key, None)
        resp = await self.handler(request)
        self._keep(request, key, resp)
        return resp

    def _reuse(self, request: web.BaseRequest, key: tuple[str | None, ...], known: Answer
               ) -> web.Response | None:
        started = self._clock.wall()
        try:
            principal(key[1], started)
        except MockError:
            return None  # expired since: the normal path words the 401
        found = known.offer
        now = self._clock.now(found.namespace)
        if not found.ended.holds(now, self._store.peek(found.ended.tenant.key)):
            return None
        resp = web.Response(body=known.body, headers=known.headers)
        self._journal.add(found.namespace, hdrs.METH_GET, found.path, at=now,
                          query=request.query_string, operation=found.operation,
                          request_headers=request.headers, status=200,
                          response_headers=resp.headers, response_body=known.body,
                          duration_ms=(self._clock.wall() - started) * 1000)
        return resp

    def _keep(self, request: web.BaseRequest, key: tuple[str | None, ...],
              resp: web.StreamResponse) -> None:
        found = request.get(HINT)
        if found is None or resp.status != 200 or type(resp) is not web.Response or self._armed():
            return
        body = resp.body
        if not isinstance(body, bytes):
            return
        if len(self.answers) >= MAX_ANSWERS:
            self.answers.pop(next(iter(self.answers)))
        kept = tuple((k, v) for k, v in resp.headers.items() if k not in _DROPPED)
        self.answers[key] = Answer(found, body, kept)


def install(runner: web.AppRunner) -> HotReads:
    """Put the fast path in front of a set-up runner's application (before any connection)."""
    hot = HotReads(runner.app, runner.server.request_handler)  # type: ignore[union-attr]
    runner.server.request_handler = hot  # type: ignore[union-attr]
    return hot
