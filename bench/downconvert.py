"""A 3.0.3 copy of our 3.1 spec for peers that only load OpenAPI 3.0 (connexion 3.x).

Generated at bench time into bench/out, never committed. Only the 3.1 constructs our spec
uses are rewritten; anything else passes through unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SCHEMA_KEYS = ("properties", "patternProperties", "$defs", "definitions")
# What an OpenAPI 3.0 Schema Object may hold (besides x- extensions); connexion rejects the rest.
_OAS30 = frozenset({
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties",
    "minProperties", "required", "enum", "type", "allOf", "oneOf", "anyOf", "not", "items",
    "properties", "additionalProperties", "description", "format", "default", "nullable",
    "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated",
    "$ref",
})


def _schema(node: Any) -> Any:
    """One JSON Schema 2020-12 node → its OpenAPI 3.0 Schema Object spelling."""
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_KEYS and isinstance(value, dict):
            out[key] = {k: _schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") or key in ("allOf", "anyOf", "oneOf"):
            out[key] = _schema(value)
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]  # 3.0 has one `example` per schema
        elif key == "const":
            out["enum"] = [value]  # 3.0 has no const
        elif key == "$schema":
            continue
        else:
            out[key] = value
    kind = out.get("type")
    if isinstance(kind, list):  # type: [x, "null"] → type: x, nullable: true
        rest = [t for t in kind if t != "null"]
        if len(rest) < len(kind):
            out["nullable"] = True
        if len(rest) == 1:
            out["type"] = rest[0]
        elif rest:
            del out["type"]
            out["anyOf"] = [{"type": t} for t in rest]
        else:
            del out["type"]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[flag], out[bound] = out[bound], True
    # 3.1-only keywords (patternProperties, $defs, ...) and stray keys go: 3.0 has no place for them.
    return {k: v for k, v in out.items() if k in _OAS30 or k.startswith("x-")}


def _walk(node: Any) -> Any:
    """Rewrite every `schema` (parameters, media types) and every component schema."""
    if isinstance(node, list):
        return [_walk(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema" and isinstance(value, dict):
            out[key] = _schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: _schema(s) for name, s in value.items()}
        else:
            out[key] = _walk(value)
    return out


def down_convert(doc: dict[str, Any]) -> dict[str, Any]:
    """The same API described as OpenAPI 3.0.3."""
    out = _walk(doc)
    out["openapi"] = "3.0.3"
    out.pop("webhooks", None)
    out.pop("jsonSchemaDialect", None)
    license_ = out.get("info", {}).get("license")
    if isinstance(license_, dict):
        license_.pop("identifier", None)
    return out


def write_down_converted(src: Path, dest: Path) -> Path:
    """Write a 3.0.3 copy of `src` to `dest`; returns `dest`."""
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(yaml.safe_dump(down_convert(doc), sort_keys=False), encoding="utf-8")
    return dest
