"""Request checks against the spec: content negotiation, parameters and body, in vendor errors."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from jsonschema import Draft202012Validator
from multidict import MultiDictProxy

from .domain.errors import (
    BadRequest,
    MockError,
    NotAcceptable,
    NotFound,
    Unprocessable,
    UnsupportedMediaType,
)
from .jsonenc import loads
from .spec.load import Operation, Param
from .wording import Failure, failures

_NO_BODY = object()


@dataclass(slots=True)
class Call:
    """A request that passed validation: typed params and the parsed body. Never changed once
    made (not frozen: one is made per request, and a frozen dataclass takes ~5× longer to make)."""

    op: Operation
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    raw_query: list[tuple[str, str]]  # every query pair as sent, in order (filters, links)
    body: Any  # parsed JSON (or form dict); None when there was no body
    principal: Any  # who is calling, as the operation's security scheme says
    namespace: str
    now: float  # virtual time, read once per request


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def acceptable(op: Operation, accept: str | None) -> bool:
    """True when the Accept header admits one of the operation's response media types."""
    if not accept or not op.response_media:
        return True
    return _admits(op.response_media, accept)


@lru_cache(maxsize=512)  # clients send the same few Accept headers on every request
def _admits(response_media: frozenset[str], accept: str) -> bool:
    offered = {_media(m) for m in response_media}
    for part in accept.split(","):
        media, *options = (s.strip().lower() for s in part.split(";"))
        quality = next((o[2:] for o in options if o.startswith("q=")), "1")
        try:
            if float(quality) == 0:
                continue
        except ValueError:
            pass
        if media in ("*/*", "") or media in offered:
            return True
        kind = media.split("/", 1)[0]
        if media.endswith("/*") and any(o.startswith(kind + "/") for o in offered):
            return True
    return False


def _types(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None and "enum" in schema:
        return [type(schema["enum"][0]).__name__.replace("str", "string").replace("int", "integer")]
    return [t] if isinstance(t, str) else list(t or [])


def coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query/path/header string into the schema's type when it cleanly can."""
    types = _types(schema)
    if "integer" in types:
        try:
            return int(value, 10)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if "array" in types:
        items = schema.get("items", {})
        return [coerce(v, items) for v in value.split(",")] if value else []
    return value


def _first_error(validator: Draft202012Validator, value: Any) -> str | None:
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    return errors[0].message if errors else None


def _check_param(param: Param, raw: str | None) -> Any:
    if raw is None:
        if param.required:
            raise BadRequest(
                f"The required parameter, {param.name}, is missing.",
                code="PARAM_MISSING", title="Missing parameter", parameter=param.name,
            )
        return None
    value = coerce(raw, param.schema)
    if param.accepts is not None and param.accepts(value):
        return value
    problem = _first_error(param.validator, value)
    if problem is None:
        return value
    if param.location == "path" and raw.isprintable() and raw.isascii() and " " not in raw:
        # An id or type outside the spec's set names no resource: that is a 404, not a 400.
        raise NotFound(f"No {param.name} matches {raw!r}", parameter=param.name)
    if param.location == "path":  # control characters, spaces, raw bytes: a malformed request
        raise BadRequest(f"The {param.name} in the path is not a valid id: {problem}",
                         code="INVALID_PARAMETER", title="Invalid parameter",
                         parameter=param.name)
    raise BadRequest(
        f"{param.name} is invalid: {problem}",
        code=_param_code(param), title="Invalid parameter", parameter=param.name,
    )


# jsonapi-resources codes by query parameter (notes: commercelayer_api.md §3, "inferred" there)
_QUERY_CODES = (("sort", "INVALID_SORT_CRITERIA"), ("include", "INVALID_INCLUDE"),
                ("fields[", "INVALID_FIELD"), ("page[", "INVALID_PAGE_VALUE"),
                ("filter[", "FILTER_NOT_ALLOWED"))


def _param_code(param: Param) -> str:
    if param.location == "header":
        return "INVALID_PARAMETER"
    return next((code for prefix, code in _QUERY_CODES if param.name.startswith(prefix)),
                "PARAM_NOT_ALLOWED")


def check_params(
    op: Operation, match: Mapping[str, str], query: MultiDictProxy[str], headers: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate declared path, query and header parameters; returns (path, query) values."""
    path = {p.name: _check_param(p, match.get(p.name)) for p in op.params_in("path")}
    values: dict[str, Any] = dict(op.query_absent)  # most declared filters are absent
    given = op.query_by_name
    for _, p in sorted(given[name] for name in set(query) if name in given):  # declared order
        raws = query.getall(p.name)
        if len(raws) > 1:
            raise BadRequest(f"{p.name} is given {len(raws)} times", code="PARAM_NOT_ALLOWED",
                             parameter=p.name)
        values[p.name] = _check_param(p, raws[0])
    for p in op.query_required:
        if p.name not in query:
            _check_param(p, None)  # raises: missing
    for p in op.params_in("header"):
        _check_param(p, headers.get(p.name))
    return path, values


Checked = tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]  # path, query, raw query


class HeadChecks:
    """`check_accept` and `check_params` of one operation, remembered per request head.

    Both are functions of the raw path (with its query) and a few headers (Accept and the
    declared header parameters), and a client sends the same head again and again (polling a
    job, paging a list): a head seen before skips parsing the query and validating every
    parameter. A head that fails is checked (and answered) again each time; the `size` heads
    seen last are kept. What it returns is shared by every request of that head: read only.
    """

    __slots__ = ("op", "size", "_headers", "_seen")

    def __init__(self, op: Operation, size: int = 1024) -> None:
        self.op, self.size = op, size
        self._headers = ("Accept", *(p.name for p in op.params_in("header")))
        self._seen: OrderedDict[tuple[str | None, ...], Checked] = OrderedDict()

    def __call__(self, request: web.BaseRequest) -> Checked:
        """(path values, query values, every query pair as sent) of a request to this operation."""
        headers = request.headers
        key = (request.raw_path, *map(headers.get, self._headers))
        found = self._seen.get(key)
        if found is None:
            op, query = self.op, request.query
            check_accept(op, headers.get("Accept"))
            found = (*check_params(op, request.match_info, query, headers), list(query.items()))
            if len(self._seen) >= self.size:
                self._seen.popitem(last=False)
            self._seen[key] = found
        return found

    def __len__(self) -> int:
        return len(self._seen)


def body_errors(validator: Draft202012Validator, body: Any, vendor: bool = True
                ) -> list[MockError]:
    """Every schema violation of a body in the vendor's words (wording.py): an attribute the
    operation does not take is a 400 PARAM_NOT_ALLOWED, as jsonapi-resources answers (the
    admin API's own bodies, not `vendor`: a 422 like the rest); the others are 422s with a JSON
    pointer to the culprit and the validator in `meta.error`."""
    seen: set[tuple[str, str]] = set()
    found: list[Failure] = []
    for err in sorted(validator.iter_errors(body), key=lambda e: (list(map(str, e.path)), e.message)):
        for failure in failures(err):
            if (failure.pointer, failure.rule) not in seen:
                seen.add((failure.pointer, failure.rule))
                found.append(failure)
    extra = [f for f in found if f.rule == "not_permitted"]
    if extra and vendor:
        return [BadRequest(f"{f.field} is not allowed.", code="PARAM_NOT_ALLOWED",
                           title="Param not allowed", pointer=f.pointer, errors=[f.sentence()])
                for f in extra]
    return [Unprocessable(f"{f.field} - {f.rails()}", title=f.rails(), pointer=f.pointer,
                          meta=f.meta(), errors=[f.sentence()]) for f in found]


def parse_body(op: Operation, raw: bytes, content_type: str | None) -> Any:
    """Check media type and schema of a request body; returns the parsed body or None."""
    if not op.body_media:
        if raw.strip():
            raise BadRequest("This operation does not accept a request body.", code="BAD_REQUEST")
        return None
    if not raw.strip():
        if op.body_required:
            raise BadRequest("The request body is missing.", code="PARAM_MISSING",
                             title="Missing parameter", pointer="/data")
        return None
    media = _media(content_type or "")
    validator = op.body_media.get(media)
    if validator is None:
        declared = ", ".join(sorted(op.body_media))
        raise UnsupportedMediaType(
            f"Content-Type {media or '(none)'} is not supported here; use {declared}."
        )
    if media == "application/x-www-form-urlencoded":
        body: Any = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        try:
            body = loads(raw)
        except ValueError as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}", code="BAD_REQUEST",
                             title="Malformed JSON") from None
    fast = op.body_accepts.get(media)
    if fast is not None and fast(body):
        return body
    errors = body_errors(validator, body, vendor=not op.path.startswith("/_mock"))
    if errors:
        first, *rest = errors
        first.more = rest
        raise first
    return body


def check_accept(op: Operation, accept: str | None) -> None:
    """406 when the client accepts none of the operation's response media types."""
    if not acceptable(op, accept):
        offered = ", ".join(sorted(op.response_media))
        raise NotAcceptable(f"Accept {accept!r} excludes {offered}.")
