"""The one error path: typed MockErrors, rendered by one middleware in each vendor's shape.

    MockError                 status + vendor code + title/detail (+ pointer/parameter, meta)
     ├── BadRequest           400  (query, params, malformed body)
     ├── Unauthorized         401
     ├── Forbidden            403  (Rackspace roles)
     ├── NotFound             404
     ├── MethodNotAllowed     405  (+ Allow)
     ├── NotAcceptable        406
     ├── Conflict             409
     ├── UnsupportedMediaType 415
     ├── Unprocessable        422
     └── TooManyRequests      429
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSONAPI = "application/vnd.api+json"
JSON = "application/json"


class MockError(Exception):
    """An error a client should see, with everything both vendors' renderers need."""

    status = 500
    code = "INTERNAL_SERVER_ERROR"
    title = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        errors: list[str] | None = None,
        more: list[MockError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if title:
            self.title = title
        self.pointer = pointer
        self.parameter = parameter
        self.meta = dict(meta) if meta else None
        self.headers = dict(headers or {})
        self.errors = errors
        self.more = more or []


class BadRequest(MockError):
    status, code, title = 400, "BAD_REQUEST", "Bad request"


class Unauthorized(MockError):
    status, code, title = 401, "INVALID_TOKEN", "Invalid token"


class Forbidden(MockError):
    status, code, title = 403, "FORBIDDEN", "Forbidden"


class NotFound(MockError):
    status, code, title = 404, "RECORD_NOT_FOUND", "Record not found"


class MethodNotAllowed(MockError):
    status, code, title = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class NotAcceptable(MockError):
    status, code, title = 406, "NOT_ACCEPTABLE", "Not acceptable"


class RequestTimeout(MockError):
    status, code, title = 408, "REQUEST_TIMEOUT", "Request timeout"


class Conflict(MockError):
    status, code, title = 409, "CONFLICT", "Conflict"


class PayloadTooLarge(MockError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Payload too large"


class UnsupportedMediaType(MockError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"


class Unprocessable(MockError):
    status, code, title = 422, "VALIDATION_ERROR", "Validation error"


class TooManyRequests(MockError):
    status, code, title = 429, "TOO_MANY_REQUESTS", "Too many requests"


def _jsonapi_item(err: MockError) -> dict[str, Any]:
    item: dict[str, Any] = {
        "title": err.title,
        "detail": err.detail,
        "code": err.code,
        "status": str(err.status),
    }
    if err.pointer is not None:
        item["source"] = {"pointer": err.pointer}
    elif err.parameter is not None:
        item["source"] = {"parameter": err.parameter}
    if err.meta:
        item["meta"] = err.meta
    return item


def jsonapi_body(err: MockError) -> dict[str, Any]:
    """Commerce Layer shape: {"errors": [{title, detail, code, status, source?, meta?}]}."""
    return {"errors": [_jsonapi_item(e) for e in [err, *err.more]]}


def rackspace_body(err: MockError) -> dict[str, Any]:
    """Rackspace shape: {"message": ...} plus "errors" for validation failures."""
    body: dict[str, Any] = {"message": err.detail}
    details = err.errors or [e.detail for e in err.more]
    if details:
        body["errors"] = details
    return body


def rackspace_error(err: MockError) -> MockError:
    """A body that breaks the schema is a 400 "Validation failed." listing every problem.

    notes: rackspace_cleanups.md §8 Error body format — Rackspace documents no 422, and shows
    validation failures as {"message": "Validation failed.", "errors": [...]}.
    """
    if not isinstance(err, Unprocessable) and err.code != "PARAM_NOT_ALLOWED":
        return err
    listed = [sentence for e in [err, *err.more] for sentence in (e.errors or [e.detail])]
    return BadRequest("Validation failed.", errors=list(dict.fromkeys(listed)),
                      headers=err.headers)


def dialect_of(path: str) -> str:
    """Which vendor's error format a path speaks."""
    return "rackspace" if path.startswith("/v2/") or path == "/v2" else "commercelayer"
