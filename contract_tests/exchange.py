"""Exchange: one request and its response, as every contract rule sees it (transport-neutral)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .model import model_of

if TYPE_CHECKING:
    import requests
    from schemathesis import Case, Response


def _str_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {k: v.decode("latin-1") if isinstance(v, bytes) else str(v) for k, v in headers.items()}


def _json(raw: bytes | str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request/response pair plus the operation the spec declares for it (if any)."""

    method: str  # upper case
    url: str
    template: str | None  # the spec path, e.g. /api/exports/{exportId}
    status: int
    content_type: str  # the response's media type, without parameters
    body: Any  # parsed JSON, or None
    raw: bytes
    request_body: Any
    request_headers: Mapping[str, str]
    spec: Mapping[str, Any]

    @property
    def path(self) -> str:
        """The request path (no query)."""
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The decoded query pairs, in order."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def operation(self) -> Mapping[str, Any] | None:
        """The spec's operation object, or None for undeclared method/path pairs."""
        if self.template is None:
            return None
        return self.spec.get("paths", {}).get(self.template, {}).get(self.method.lower())

    def declared(self) -> Mapping[str, Any] | None:
        """The declared response for this status (with $ref resolved), if any."""
        op = self.operation
        if op is None:
            return None
        resp = op.get("responses", {}).get(str(self.status)) or op.get("responses", {}).get(
            f"{str(self.status)[0]}XX") or op.get("responses", {}).get("default")
        return resolve(self.spec, resp) if resp is not None else None

    def jobs(self) -> list[Any]:
        """The jobs the response body shows."""
        return list(model_of(self.spec).jobs_in(self.path, self.body))

    def scope(self) -> str:
        """Which tenant a job id lives in: credentials, mock namespace and Rackspace project."""
        head = {k.lower(): v for k, v in self.request_headers.items()}
        parts = self.path.split("/")
        project = parts[2] if len(parts) > 2 and parts[1] == "v2" else ""
        who = head.get("authorization") or head.get("x-auth-token") or ""
        split = urlsplit(self.url)
        return f"{split.scheme}://{split.netloc}|{who}|{head.get('x-mock-namespace', '')}|{project}"

    def trigger(self) -> str | None:
        """`_interrupt`/`_start`/`stop` when this request asks a job to change status."""
        body = self.request_body
        if self.method != "PATCH":
            return None
        if isinstance(body, Mapping):
            attrs = (body.get("data") or {}).get("attributes") if isinstance(
                body.get("data"), Mapping) else None
            if isinstance(attrs, Mapping):
                for name in ("_interrupt", "_start"):
                    if attrs.get(name) is True:
                        return name
        if isinstance(body, list):  # Rackspace JSON Patch: the user's only move is a stop request
            for op in body:
                if isinstance(op, Mapping) and op.get("path") == "/state" \
                        and op.get("value") == "stop_requested":
                    return "stop"
        return None

    @classmethod
    def from_case(cls, case: Case, response: Response) -> Exchange:
        """From a schemathesis case and its response."""
        req = response.request
        ctype = (response.headers.get("content-type") or [""])[0]
        return cls(
            method=str(req.method or case.method).upper(),
            url=str(req.url),
            template=case.operation.path,
            status=response.status_code,
            content_type=ctype.split(";")[0].strip().lower(),
            body=_json(response.content),
            raw=response.content or b"",
            request_body=_json(req.body) if isinstance(req.body, bytes | str) else None,
            request_headers=_str_headers(req.headers),
            spec=case.operation.schema.raw_schema,
        )

    @classmethod
    def from_requests(cls, response: requests.Response, spec: Mapping[str, Any]) -> Exchange:
        """From a plain `requests` response (lifecycle tests), finding the operation by path."""
        req = response.request
        method = str(req.method or "GET").upper()
        path = urlsplit(str(req.url)).path
        return cls(
            method=method,
            url=str(req.url),
            template=find_template(spec, method, path),
            status=response.status_code,
            content_type=response.headers.get("Content-Type", "").split(";")[0].strip().lower(),
            body=_json(response.content),
            raw=response.content or b"",
            request_body=_json(req.body) if isinstance(req.body, bytes | str) else None,
            request_headers=_str_headers(req.headers),
            spec=spec,
        )


def resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """Follow local `$ref`s until a concrete object."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = spec
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


_TEMPLATES: dict[int, list[tuple[re.Pattern[str], str]]] = {}


def find_template(spec: Mapping[str, Any], method: str, path: str) -> str | None:
    """The spec path template serving `method path`; literal paths win over templated ones."""
    routes = _TEMPLATES.get(id(spec))
    if routes is None:
        ordered = sorted(spec.get("paths", {}), key=lambda p: (p.count("{"), p))
        routes = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in ordered]
        _TEMPLATES[id(spec)] = routes
    for pattern, template in routes:
        if pattern.match(path) and method.lower() in spec["paths"][template]:
            return template
    for pattern, template in routes:  # path exists, method does not: still the same resource
        if pattern.match(path):
            return template
    return None
