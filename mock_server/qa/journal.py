"""Bounded request journal per namespace, and how one exchange is recorded in it."""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..domain.clock import VirtualClock
from ..headers import NAMESPACE_HEADER
from ..jsonenc import trimmed
from ..timefmt import cl_time
from ..vendors.commercelayer.auth import decode_cached

ADMIN_PREFIX = "/_mock"
TRIM_BELOW = 4096  # response bodies shorter than orjson's first buffer are copied to their size
BODY_CAP = 16 * 1024  # characters of a body kept per entry (imports can be megabytes)
FAULT_NOTE = "mock_fault"  # request key where the fault middleware notes what it injected
BODY_NOTE = "mock_body"  # request key where the route leaves the body it read


def is_admin(path: str) -> bool:
    """True for the mock's own control API (never journaled, faulted or rate limited)."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def bearer_claims(request: web.Request) -> dict[str, Any] | None:
    """The JWT payload of a Bearer header, or None (auth itself is checked by the route)."""
    if "mock_claims" in request:
        return request["mock_claims"]  # type: ignore[no-any-return]
    claims = None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            claims = decode_cached(token.strip())
        except Exception:  # noqa: BLE001 - a bad token is the route's 401, not ours
            claims = None
    request["mock_claims"] = claims
    return claims


def namespace_of(request: web.Request) -> str:
    """X-Mock-Namespace, else the token's mock_namespace claim, else "default" (as app.py)."""
    header = request.headers.get(NAMESPACE_HEADER)
    if header:
        return header
    claim = (bearer_claims(request) or {}).get("mock_namespace")
    return claim if isinstance(claim, str) and claim else "default"


Headers = Iterable[tuple[str, str]] | Mapping[str, str]
Body = bytes | bytearray | str | None


@dataclass(slots=True)
class Entry:
    """One request and its response as the client saw them; never changed once made (not frozen:
    one is made per request, and a frozen dataclass takes ~5× longer to make).

    Headers and bodies are kept as the server had them (a header mapping, the body bytes) and
    turned into text only when somebody reads the journal: recording stays off the hot path.
    """

    seq: int
    at: float  # virtual time when it arrived
    namespace: str
    method: str
    path: str
    query: str
    operation: str | None  # operationId of the route that served it
    raw_request_headers: Headers
    raw_request_body: Body
    status: int | None  # None: the connection was broken on purpose
    raw_response_headers: Headers
    raw_response_body: Body
    duration_ms: float  # real time spent (includes injected latency)
    fault: str | None  # what the fault middleware injected, if anything

    @property
    def request_headers(self) -> tuple[tuple[str, str], ...]:
        """The request's headers, in order."""
        return _pairs(self.raw_request_headers)

    @property
    def response_headers(self) -> tuple[tuple[str, str], ...]:
        """The response's headers, in order."""
        return _pairs(self.raw_response_headers)

    @property
    def request_body(self) -> str | None:
        """The request body as text (capped at BODY_CAP characters), None when there was none."""
        return _text(self.raw_request_body)

    @property
    def response_body(self) -> str | None:
        """The response body as text (capped), None for streamed or absent bodies."""
        return _text(self.raw_response_body)

    def as_dict(self, credentials: bool = False) -> dict[str, Any]:
        """The entry as the admin API shows it: tokens and secrets masked (`abc…xyz`) unless
        `credentials` asks for them in full."""
        shown = _as_is if credentials else _masked
        return {
            "seq": self.seq, "at": cl_time(self.at), "namespace": self.namespace,
            "method": self.method, "path": self.path, "query": self.query,
            "operation": self.operation,
            "request": {"headers": shown(dict(self.request_headers)),
                        "body": _masked_body(self.request_body, credentials)},
            "response": {"status": self.status, "headers": shown(dict(self.response_headers)),
                         "body": _masked_body(self.response_body, credentials)},
            "duration_ms": round(self.duration_ms, 3), "fault": self.fault,
        }


# What carries a credential: headers (case-insensitive), and body fields (JSON or a form)
SECRET_HEADERS = frozenset({"authorization", "x-auth-token", "cookie", "set-cookie",
                            "proxy-authorization"})
_SECRET_FIELDS = re.compile(
    r'(?P<pre>"(?:access_token|client_secret|refresh_token|password)"\s*:\s*")(?P<v>[^"]*)(?=")'
    r"|(?P<fpre>(?:^|&)(?:client_secret|refresh_token|password)=)(?P<fv>[^&]*)")


def mask(value: str) -> str:
    """`Bearer eyJ…x9Q`: the scheme, and only the ends of the secret."""
    scheme, sep, secret = value.partition(" ") if " " in value.strip() else ("", "", value)
    secret = secret.strip()
    hidden = "…" if len(secret) <= 12 else f"{secret[:3]}…{secret[-3:]}"
    return f"{scheme}{sep}{hidden}"


def _as_is(headers: dict[str, str]) -> dict[str, str]:
    return headers


def _masked(headers: dict[str, str]) -> dict[str, str]:
    return {k: mask(v) if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def _masked_body(text: str | None, credentials: bool) -> str | None:
    if text is None or credentials:
        return text
    return _SECRET_FIELDS.sub(
        lambda m: (m["pre"] + mask(m["v"])) if m["pre"] else (m["fpre"] + mask(m["fv"])), text)


def _pairs(headers: Headers) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), str(v)) for k, v in items)


def _text(data: Body) -> str | None:
    if data is None or isinstance(data, str):
        return data if data is None or len(data) <= BODY_CAP else data[:BODY_CAP] + "…"
    text = bytes(data[: BODY_CAP * 4]).decode("utf-8", "replace")
    return text if len(text) <= BODY_CAP else text[:BODY_CAP] + "…"


@dataclass(frozen=True, slots=True)
class Query:
    """Journal filters; None matches everything."""

    method: str | None = None
    path: str | None = None  # glob (fnmatch): /api/imports/*
    namespace: str | None = None
    status: str | None = None  # "200", "4xx", or "none" for broken connections
    operation: str | None = None
    body: str | None = None  # substring of the request body, e.g. "_interrupt"
    job: str | None = None  # a job's id: its own paths, and the create that answered with it

    def matches(self, e: Entry) -> bool:
        """True when the entry passes every filter."""
        if self.method and e.method != self.method.upper():
            return False
        if self.path and not fnmatch.fnmatchcase(e.path, self.path):
            return False
        if self.namespace is not None and e.namespace != self.namespace:
            return False
        if self.operation and e.operation != self.operation:
            return False
        if self.body and self.body not in (e.request_body or ""):
            return False
        if self.job and not touches(e, self.job):
            return False
        return self.status is None or _status_matches(e.status, self.status)


def touches(e: Entry, job_id: str) -> bool:
    """True when the exchange named the job in its path, or created it (answered with its id)."""
    if job_id in e.path.split("/"):
        return True
    return e.method == "POST" and e.status == 201 and \
        f'"id":"{job_id}"' in (e.response_body or "")


def _status_matches(status: int | None, wanted: str) -> bool:
    wanted = wanted.lower()
    if wanted == "none":
        return status is None
    if status is None:
        return False
    if len(wanted) == 3 and wanted.endswith("xx"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted


class Journal:
    """The last `size` entries of each namespace (oldest dropped), of the `namespaces` written
    to most recently (0: all), thread-safe."""

    def __init__(self, size: int = 1000, namespaces: int = 0) -> None:
        self.size = max(1, size)
        self.namespaces = namespaces
        self._by_ns: dict[str, deque[Entry]] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.last = 0  # seq of the newest entry
        self.cleared: list[str | None] | None = None  # a durable store's: namespaces cleared
        self.listeners: tuple[Callable[[Entry], None], ...] = ()  # told of every entry added

    def add(self, namespace: str, method: str, path: str, *, at: float, query: str = "",
            operation: str | None = None, request_headers: Headers = (), request_body: Body = None,
            status: int | None = None, response_headers: Headers = (), response_body: Body = None,
            duration_ms: float = 0.0, fault: str | None = None) -> Entry:
        """Record one exchange (headers and bodies as the server has them; see Entry)."""
        with self._lock:
            entry = Entry(next(self._seq), at, namespace, method, path, query, operation,
                          request_headers, _kept(request_body), status, response_headers,
                          _kept(response_body), duration_ms, fault)
            ring = self._by_ns.get(namespace)
            if ring is None:
                if 0 < self.namespaces <= len(self._by_ns):  # drop the longest unwritten
                    del self._by_ns[min(self._by_ns, key=self._newest)]
                ring = self._by_ns[namespace] = deque(maxlen=self.size)
            ring.append(entry)
            self.last = entry.seq
        for listener in self.listeners:
            listener(entry)
        return entry

    def _newest(self, namespace: str) -> int:
        ring = self._by_ns[namespace]
        return ring[-1].seq if ring else 0

    def since(self, seq: int) -> tuple[list[Entry], dict[str, int], list[str | None]]:
        """For a durable store: entries after `seq`, each namespace's oldest kept seq, and the
        namespaces cleared since the last call (taken)."""
        with self._lock:
            fresh = []
            if self.last > seq:
                for ring in self._by_ns.values():
                    for e in reversed(ring):
                        if e.seq <= seq:
                            break
                        fresh.append(e)
            oldest = {ns: ring[0].seq for ns, ring in self._by_ns.items() if ring}
            cleared, self.cleared = self.cleared or [], []
        fresh.sort(key=lambda e: e.seq)
        return fresh, oldest, cleared

    def restore(self, entries: Iterable[Entry]) -> None:
        """Take over kept entries (oldest first); new ones continue their numbering."""
        with self._lock:
            for entry in entries:
                ring = self._by_ns.get(entry.namespace)
                if ring is None:
                    ring = self._by_ns[entry.namespace] = deque(maxlen=self.size)
                ring.append(entry)
                self.last = max(self.last, entry.seq)
            self._seq = itertools.count(self.last + 1)

    def _all(self, namespace: str | None) -> Iterator[Entry]:
        with self._lock:
            rings = [r for ns, r in self._by_ns.items() if namespace in (None, ns)]
            items = [e for r in rings for e in r]
        return iter(sorted(items, key=lambda e: e.seq) if len(rings) > 1 else items)

    def entries(self, query: Query | None = None, **filters: Any) -> list[Entry]:
        """Matching entries, oldest first (keyword filters as in Query)."""
        q = query or Query(**filters)
        return [e for e in self._all(q.namespace) if q.matches(e)]

    def count(self, query: Query | None = None, **filters: Any) -> int:
        """How many entries match."""
        return len(self.entries(query, **filters))

    def clear(self, namespace: str | None = None) -> int:
        """Forget the entries of one namespace, or all; returns how many were dropped."""
        with self._lock:
            doomed = [ns for ns in self._by_ns if namespace in (None, ns)]
            dropped = sum(len(self._by_ns[ns]) for ns in doomed)
            for ns in doomed:
                del self._by_ns[ns]
            if self.cleared is not None:
                self.cleared.append(namespace)
            return dropped


def _kept(body: Body) -> Body:
    """A body as the journal keeps it: the object itself, or its first bytes when it is huge."""
    if isinstance(body, bytes | bytearray) and len(body) > BODY_CAP * 4:
        return bytes(body[: BODY_CAP * 4])
    return body


def _response_body(resp: web.StreamResponse) -> bytes | bytearray | None:
    body = getattr(resp, "body", None) if isinstance(resp, web.Response) else None
    return body if isinstance(body, bytes | bytearray) else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def record(journal: Journal, clock: VirtualClock, request: web.BaseRequest, namespace: str,
           path: str, *, at: float, started: float, operation: str | None, status: int | None,
           resp: web.StreamResponse | None, request_body: Body = None,
           fault: str | None = None, kept: bool = False) -> None:
    """Journal one exchange as the client saw it (the pipeline and the fast path both call it).
    A short response body is kept as a copy of its own size (jsonenc.trimmed: the encoder's
    buffer is 4 KB at least) unless it already is one (`kept`: the fast path's answers,
    shared by every entry that gave them); a longer one fills most of its buffer."""
    body = _response_body(resp) if resp is not None else None
    if body is not None and not kept and len(body) < TRIM_BELOW:
        body = trimmed(body)
    journal.add(
        namespace, request.method, path, at=at, query=request.query_string, operation=operation,
        request_headers=request.headers, request_body=request_body, status=status,
        response_headers=resp.headers if resp is not None else (),
        response_body=body,
        duration_ms=(clock.wall() - started) * 1000, fault=fault,
    )
