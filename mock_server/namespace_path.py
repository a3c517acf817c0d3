"""`/_ns/<namespace>/...` URLs: the namespace in the path, for clients that send no header.

A test hands its client a base URL such as `http://127.0.0.1:8080/_ns/ci-7`; every request
under it is served as if it had no prefix and carried `X-Mock-Namespace: ci-7`, and the links
the mock returns keep the prefix, so any client (the official SDK, httpx, urllib, a Rackspace
client with an opaque X-Auth-Token) stays in its namespace without being told.
"""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import hdrs, web
from yarl import URL

from .headers import NAMESPACE_HEADER
from .records.simulation.files import LINK_BASE

PREFIX = "/_ns/"
LINK_PREFIX = "mock_link_prefix"  # request key: what links must start with (base_url adds it)


def split(raw_path: str) -> tuple[str, str, str] | None:
    """(namespace, raw prefix, raw rest with query) of a prefixed path, or None."""
    if not raw_path.startswith(PREFIX):
        return None
    raw_ns, _, rest = raw_path[len(PREFIX):].partition("/")
    if "?" in raw_ns:  # /_ns/x?query: no path after the namespace
        raw_ns, _, query = raw_ns.partition("?")
        rest = "?" + query
    namespace = unquote(raw_ns)
    if not namespace:
        return None
    return namespace, PREFIX + raw_ns, "/" + rest


def link_prefix(request: web.Request) -> str:
    """The `/_ns/<namespace>` a request came through ("" when none): links keep it."""
    return request.get(LINK_PREFIX, "")  # type: ignore[no-any-return]


async def redispatch(request: web.Request, found: tuple[str, str, str]) -> web.StreamResponse:
    """Serve `/_ns/<ns>/rest` (`found` = split(raw path)) as `/rest` with `X-Mock-Namespace: <ns>`."""
    namespace, prefix, rest = found
    headers = request.headers.copy()
    headers[NAMESPACE_HEADER] = namespace  # the path wins over a header (it is what links keep)
    headers.popall(hdrs.EXPECT, None)  # "100 Continue" was answered for the outer request
    inner = request.clone(rel_url=URL(rest, encoded=True), headers=headers)
    inner[LINK_PREFIX] = prefix
    # Routing ran before any middleware, on the prefixed path: route the inner request again
    # (through the pipeline, which passes it on). aiohttp has no public hook for it.
    resp = await request.app._handle(inner)  # type: ignore[arg-type]
    request.update(inner)  # what the handlers noted (e.g. the fast path's offer) is the outer's too
    return resp


def base_url(request: web.Request, public_url: str | None) -> str:
    """Absolute base for links: --public-url, else the host the client used (+ its /_ns/ prefix).
    Worked out once per request: the pipeline keeps it in LINK_BASE while the request is served."""
    known = LINK_BASE.get()
    return known if known is not None else request_base(request, public_url)


def request_base(request: web.Request, public_url: str | None) -> str:
    """`base_url` worked out from the request itself."""
    root = public_url.rstrip("/") if public_url else f"{request.scheme}://{request.host}"
    return root + link_prefix(request)
