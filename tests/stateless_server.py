"""A stateless stand-in for openapi.yaml, as Prism serves one: every operation answers its first
documented success with a body made from the schema alone, remembering nothing.

Static mode answers the same body every time (Prism's default); dynamic mode draws enum values
and numbers afresh for every answer (`prism mock -d`), seeded. It answers the admin paths too,
so a suite that trusted a 2xx from `/_mock/clock` would take it for this project's mock.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from contract_tests.exchange import resolve
from contract_tests.threaded import ThreadedApp

_FORMATS = {"date-time": "2026-01-01T00:00:00.000Z", "uri": "http://127.0.0.1/standin",
            "uuid": "8f135b4f-7a69-4b8a-947f-5e80d772fd97", "email": "standin@example.com"}


class Sampler:
    """A value for a JSON schema: examples, const, default, enum, then the type's plain value."""

    def __init__(self, spec: Mapping[str, Any], rng: random.Random | None) -> None:
        self.spec, self.rng = spec, rng  # rng None: static

    def pick(self, options: list[Any]) -> Any:
        return self.rng.choice(options) if self.rng and options else options[0]

    def sample(self, schema: Any, depth: int = 0) -> Any:
        schema = resolve(self.spec, schema)
        if not isinstance(schema, Mapping) or depth > 12:
            return None
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.pick(list(schema["enum"]))
        if schema.get("examples") and not self.rng:
            return schema["examples"][0]
        if "default" in schema and not self.rng:
            return schema["default"]
        if "allOf" in schema:
            merged: Any = {}
            for part in schema["allOf"]:
                merged = _merge(merged, self.sample(part, depth + 1))
            return merged
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.sample(schema[key][0], depth + 1)
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props = schema.get("properties") or {}
            return {name: self.sample(sub, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.sample(schema.get("items") or {}, depth + 1)
                    for _ in range(max(1, schema.get("minItems", 1)))]
        if kind in ("integer", "number"):
            low = schema.get("minimum", 0)
            return low + (self.rng.randint(0, 100) if self.rng else 0)
        if kind == "boolean":
            return bool(self.rng.getrandbits(1)) if self.rng else True
        if kind == "string":
            text = _FORMATS.get(schema.get("format", ""), "string")
            return text.ljust(schema.get("minLength", 0), "x")
        return None


def _merge(a: Any, b: Any) -> Any:
    """`b` over `a`, objects merged key by key (allOf parts refine each other)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **{k: _merge(a.get(k), v) for k, v in b.items()}}
    return a if b is None or b == {} else b


def _route(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + re.sub(r"\W", "_", m.group(1)) + "}", path)


class StatelessServer:
    """`StatelessServer(spec).start()` serves on a free port in a thread until stop()."""

    def __init__(self, spec: Mapping[str, Any], dynamic: bool = False, seed: int = 1) -> None:
        self.spec = spec
        self.sampler = Sampler(spec, random.Random(seed) if dynamic else None)
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self._server = ThreadedApp(self._app, "stateless-standin")

    @property
    def url(self) -> str:
        return self._server.url

    def _handler(self, op: Mapping[str, Any]) -> Any:
        code, answer = next(((int(c), resolve(self.spec, r)) for c, r in op["responses"].items()
                             if c.startswith("2")), (200, {}))
        media, content = next(iter((answer.get("content") or {}).items()), (None, None))

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            self.seen.append((request.method, request.path, dict(request.headers)))
            if media is None or code == 204:
                return web.Response(status=code)
            body = self.sampler.sample(content.get("schema") or {})
            return web.json_response(body, status=code, content_type=media)

        return handle

    async def _app(self) -> web.Application:
        app = web.Application()
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "patch", "put", "delete"):
                    app.router.add_route(method.upper(), _route(path), self._handler(op))
        return app

    def start(self) -> StatelessServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
