"""openapi.yaml → Spec of Operation objects, with validators compiled once at start-up."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

try:
    import jsonschema_rs
except ImportError:  # pragma: no cover - a dependency; without it bodies take the slow path
    jsonschema_rs = None  # type: ignore[assignment]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_URI = "urn:mock-server:openapi"
PACKAGED_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter (path, query or header) and its compiled validator."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    validator: Draft202012Validator
    # A plain-Python check that only ever accepts what `validator` accepts (None: always ask
    # the validator). jsonschema costs ~10 µs a parameter; this is under 1 µs.
    accepts: Callable[[Any], bool] | None = None


_PY_TYPES: dict[str, type] = {"string": str, "integer": int, "boolean": bool}
_SIMPLE = frozenset({"type", "minLength", "maxLength", "pattern", "enum", "minimum", "maximum",
                     "default", "description", "title", "example", "examples", "format"})


def quick_check(schema: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A fast acceptance test for a simple scalar schema; None when the schema is not simple.

    `format` is an annotation only (the validators run without a format checker).
    """
    kind = schema.get("type")
    if not isinstance(kind, str) or kind not in _PY_TYPES or not set(schema) <= _SIMPLE:
        return None
    exact: Any = _PY_TYPES[kind]  # Any: comparing classes must not narrow `value` for mypy
    lo_len, hi_len = schema.get("minLength"), schema.get("maxLength")
    lo, hi = schema.get("minimum"), schema.get("maximum")
    enum = schema.get("enum")
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    def accepts(value: Any) -> bool:
        if value.__class__ is not exact:  # exact class: a bool is not an integer here
            return False
        if enum is not None and value not in enum:
            return False
        if lo_len is not None and len(value) < lo_len or hi_len is not None and len(value) > hi_len:
            return False
        if lo is not None and value < lo or hi is not None and value > hi:
            return False
        return pattern is None or pattern.search(value) is not None

    return accepts


@dataclass(frozen=True, slots=True)
class Operation:
    """One declared method on one path, everything the server needs to serve it."""

    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    params: tuple[Param, ...]
    body_required: bool
    body_media: Mapping[str, Draft202012Validator]  # media type → validator
    responses: Mapping[str, Mapping[str, Any]]  # status → response object (resolved)
    response_media: frozenset[str]
    security: tuple[str, ...]
    # media type → a compiled check that accepts exactly the bodies the validator accepts;
    # jsonschema takes ~270 µs on an import of 10 rows, jsonschema_rs ~1 µs. Rejections are
    # still explained by the jsonschema validator, so 422 details do not change.
    body_accepts: Mapping[str, Callable[[Any], bool]] = field(default_factory=dict)
    # params grouped by location once (each request asks for path, query and header ones)
    by_location: Mapping[str, tuple[Param, ...]] = field(default_factory=dict)
    # query parameters by name (a request pays for those it gives, not for every declared one)
    query_by_name: Mapping[str, tuple[int, Param]] = field(default_factory=dict)  # declared order
    query_absent: Mapping[str, None] = field(default_factory=dict)  # every query name: None
    query_required: tuple[Param, ...] = ()

    def params_in(self, location: str) -> Iterator[Param]:
        """Declared parameters of one location."""
        if self.by_location:
            return iter(self.by_location.get(location, ()))
        return (p for p in self.params if p.location == location)


class Spec:
    """The parsed spec: raw document, a $ref resolver, and Operations by id."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self._resolver = self.registry.resolver(base_uri=SPEC_URI)
        self._fast_registry = (
            jsonschema_rs.Registry([(SPEC_URI, dict(doc))]) if jsonschema_rs is not None else None
        )
        self.operations: dict[str, Operation] = {}
        self.texts: dict[tuple[str, str], bytes] = {}  # as served, by (format, base URL)
        for path, item in doc.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    op = self._operation(path, method, item)
                    self.operations[op.operation_id] = op

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> Spec:
        """Load a spec file; defaults to the copy shipped inside the package."""
        with open(path or PACKAGED_SPEC, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    def resolve(self, node: Any) -> Any:
        """Follow a $ref (one level at a time until none is left)."""
        while isinstance(node, Mapping) and "$ref" in node:
            node = self._resolver.lookup(SPEC_URI + node["$ref"]).contents
        return node

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at a JSON pointer into the spec (refs resolve)."""
        return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)

    def fast_check(self, pointer: str) -> Callable[[Any], bool] | None:
        """jsonschema_rs's is_valid for the schema at a pointer (None without jsonschema_rs)."""
        if self._fast_registry is None:
            return None
        ref = f"{SPEC_URI}#{quote(pointer, safe='/~')}"  # {braces} of path templates
        # Formats stay annotations, as in the jsonschema validators (no format checker there).
        compiled = jsonschema_rs.validator_for({"$ref": ref}, registry=self._fast_registry,
                                               validate_formats=False)
        return compiled.is_valid  # type: ignore[no-any-return]

    def schema(self, name: str) -> Mapping[str, Any]:
        """A component schema by name, resolved."""
        return self.resolve(self.doc["components"]["schemas"][name])

    @cached_property
    def paths(self) -> dict[str, list[str]]:
        """Declared methods per path, upper-case, in spec order."""
        out: dict[str, list[str]] = {}
        for op in self.operations.values():
            out.setdefault(op.path, []).append(op.method.upper())
        return out

    def _operation(self, path: str, method: str, item: Mapping[str, Any]) -> Operation:
        raw = item[method]
        base = f"/paths/{_escape(path)}/{method}"
        params: dict[tuple[str, str], Param] = {}
        for where, plist in (("path", item.get("parameters", [])), ("op", raw.get("parameters", []))):
            for i, ref in enumerate(plist):
                p = self.resolve(ref)
                ptr = (
                    f"/paths/{_escape(path)}/parameters/{i}/schema"
                    if where == "path"
                    else f"{base}/parameters/{i}/schema"
                )
                if "$ref" in ref:
                    ptr = ref["$ref"].lstrip("#") + "/schema"
                schema = p.get("schema", {})
                params[(p["name"], p["in"])] = Param(
                    p["name"], p["in"], bool(p.get("required")), schema,
                    self.validator(ptr), quick_check(schema),
                )
        body = self.resolve(raw.get("requestBody", {}))
        media: dict[str, Draft202012Validator] = {}
        body_ptr = (
            raw["requestBody"]["$ref"].lstrip("#") if "$ref" in raw.get("requestBody", {})
            else f"{base}/requestBody"
        )
        fast: dict[str, Callable[[Any], bool]] = {}
        for ctype in body.get("content", {}):
            media[ctype] = self.validator(f"{body_ptr}/content/{_escape(ctype)}/schema")
            check = self.fast_check(f"{body_ptr}/content/{_escape(ctype)}/schema")
            if check is not None:
                fast[ctype] = check
        responses = {str(k): self.resolve(v) for k, v in raw.get("responses", {}).items()}
        response_media = frozenset(
            ct for r in responses.values() for ct in r.get("content", {})
        )
        security = raw.get("security", self.doc.get("security", []))
        return Operation(
            operation_id=raw["operationId"],
            method=method,
            path=path,
            tags=tuple(raw.get("tags", ())),
            params=tuple(params.values()),
            body_required=bool(body.get("required")),
            body_media=media,
            responses=responses,
            response_media=response_media,
            security=tuple(name for req in security for name in req),
            body_accepts=fast,
            by_location={where: tuple(p for p in params.values() if p.location == where)
                         for where in ("path", "query", "header", "cookie")},
            query_by_name={p.name: (i, p) for i, p in enumerate(
                q for q in params.values() if q.location == "query")},
            query_absent=dict.fromkeys(p.name for p in params.values() if p.location == "query"),
            query_required=tuple(p for p in params.values()
                                 if p.location == "query" and p.required),
        )
