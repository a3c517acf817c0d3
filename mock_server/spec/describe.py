"""Documented type words and descriptions → JSON Schema fragments (type, format, enum, default)."""

from __future__ import annotations

import re
from typing import Any

from .tables import FieldRow, SpecSourceError

# The vendors' type vocabulary; anything else is an error naming the field (case-insensitive
# because the Rackspace WADL tables capitalise: "String", "Integer").
TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "datetime": {"type": "string", "format": "date-time"},
}

_QUOTED = re.compile(r"``([^`]+)``|`([^`]+)`|'([^']+)'")
# "One of 'a' (default), 'b' or 'c'." / "can be one of `test` or `live`" / "Valid values are ..."
_LIST_START = re.compile(r"\b(?:one of|valid values are)\b", re.IGNORECASE)
_DEFAULT_MARK = re.compile(r"^\s*\(default\)")
_DEFAULT_SENTENCE = re.compile(
    r"\bdefault value is\s+(``[^`]+``|`[^`]+`|'[^']+'|[\w.-]+)", re.IGNORECASE
)


def base_schema(row: FieldRow) -> dict[str, Any]:
    """The JSON Schema type of a documented type word."""
    try:
        return dict(TYPES[row.type.lower()])
    except KeyError:
        raise SpecSourceError(
            row.source,
            row.line,
            f"field {row.name!r} has unknown type {row.type!r} (known: {', '.join(TYPES)})",
        ) from None


def _segment(description: str) -> str | None:
    """The text of an enumeration: from 'one of' to the end of its sentence or parenthesis."""
    m = _LIST_START.search(description)
    if not m:
        return None
    rest = description[m.end() :]
    # the list ends at the first '.' or ')' that is outside a quoted token
    masked = _QUOTED.sub(lambda q: "x" * len(q.group(0)), rest)
    masked = re.sub(r"\(default\)", lambda q: "x" * len(q.group(0)), masked)
    stops = [i for i, ch in enumerate(masked) if ch in ".)"]
    return rest[: stops[0]] if stops else rest


def enum_of(description: str) -> tuple[list[str], str | None]:
    """Enum values and the value marked '(default)' that a description lists, if any."""
    seg = _segment(description)
    if seg is None:
        return [], None
    values: list[str] = []
    default: str | None = None
    quoted = list(_QUOTED.finditer(seg))
    if quoted:
        for q in quoted:
            value = next(g for g in q.groups() if g is not None)
            values.append(value)
            if _DEFAULT_MARK.match(seg[q.end() :]):
                default = value
    else:  # plain page text drops the code spans: "one of test or live"
        values = [w for w in re.split(r"\s*(?:,|\bor\b|\band\b)\s*", seg.strip()) if w]
        if not all(re.fullmatch(r"[\w-]+", v) for v in values):
            return [], None
    return values, default


def default_of(description: str, schema_type: str) -> Any:
    """A default stated as 'The default value is X' (typed by the schema), else None."""
    m = _DEFAULT_SENTENCE.search(description)
    if not m:
        return None
    raw = m.group(1).strip("`'").rstrip(".")
    if schema_type == "integer" and raw.isdigit():
        return int(raw)
    return raw


def describe(row: FieldRow) -> dict[str, Any]:
    """Full schema fragment of one documented field: type, description, enum, default."""
    schema = base_schema(row)
    if row.description:
        schema["description"] = row.description
    values, default = enum_of(row.description)
    if values:
        schema["enum"] = values
    if default is None:
        default = default_of(row.description, schema["type"])
    if default is not None:
        schema["default"] = default
    return schema
