"""MockErrors and routing errors rendered in the vendor's shape, and how a middleware declares
when the fast path (fast_path.py) may answer without it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from .domain.errors import (
    JSON,
    JSONAPI,
    MethodNotAllowed,
    MockError,
    NotFound,
    dialect_of,
    jsonapi_body,
    rackspace_body,
    rackspace_error,
)
from .jsonenc import dumps

_GUARD = "mock_fast_path_guard"
M = TypeVar("M")


def never() -> bool:
    """The condition of a middleware that never changes a kept answer."""
    return False


def skippable(middleware: M, unless: Callable[[], bool] = never) -> M:
    """Declare that an answer kept by the fast path is what `middleware` would give too, except
    while `unless()` is true (e.g. a fault rule is armed). A middleware not declared this way is
    never skipped: the fast path stays off for its app."""
    setattr(middleware, _GUARD, unless)
    return middleware


def guard_of(middleware: Any) -> Callable[[], bool] | None:
    """When a declared middleware must not be skipped (None: it was never declared)."""
    return getattr(middleware, _GUARD, None)  # type: ignore[no-any-return]


def error_response(err: MockError, path: str) -> web.Response:
    """Render a MockError in the dialect of the request path."""
    if dialect_of(path) == "rackspace":
        err = rackspace_error(err)
        body, ctype = rackspace_body(err), JSON
    else:
        body, ctype = jsonapi_body(err), JSONAPI
    return web.Response(
        status=err.status,
        body=dumps(body),  # strict JSON: a NaN a client sent back in `meta` is null
        content_type=ctype,
        headers=err.headers,
    )


def from_http_exception(exc: web.HTTPException) -> MockError:
    """Translate aiohttp's routing errors (404, 405) into MockErrors."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allow = ",".join(sorted(exc.allowed_methods))
        return MethodNotAllowed(
            f"Method {exc.method} is not allowed here; allowed: {allow}",
            headers={"Allow": allow},
        )
    if exc.status == 404:
        return NotFound("No route matches this path", code="NOT_FOUND", title="Not found")
    err = MockError(exc.reason or "error", code="HTTP_ERROR")
    err.status = exc.status
    return err


def render_errors(request: web.Request, exc: Exception) -> web.Response:
    """The answer to an exception a route raised: every MockError and routing error in the
    vendor's shape, anything else a 500 in it too (logged); never a bare 500. A redirect (an
    HTTPException under 400) is raised again."""
    if isinstance(exc, MockError):
        return error_response(exc, request.path)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        return error_response(from_http_exception(exc), request.path)
    request.app.logger.error("unhandled error", exc_info=exc)
    return error_response(MockError(f"Unexpected mock error: {exc!r}"), request.path)
