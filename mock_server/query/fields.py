"""Sparse fieldsets (`fields[imports]=status,reference`) and `include=events,versions`."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .errors import QueryError


def parse_fieldset(type_name: str, value: str, allowed: Collection[str]) -> frozenset[str]:
    """The validated field names requested for one resource type (`id` is always allowed)."""
    names = [name for name in value.split(",") if name]
    for name in names:
        if name != "id" and name not in allowed:
            raise QueryError("field", name, f"'{name}' is not a valid field for {type_name}")
    return frozenset(names)


def parse_fieldsets(
    pairs: Iterable[tuple[str, str]], allowed: Mapping[str, Collection[str]]
) -> dict[str, frozenset[str]]:
    """Every `fields[<type>]` in raw query pairs, validated against the fields of each type."""
    found: dict[str, frozenset[str]] = {}
    for key, value in pairs:
        if not (key.startswith("fields[") and key.endswith("]")):
            continue
        type_name = key[len("fields[") : -1]
        if type_name not in allowed:
            raise QueryError("field", type_name, f"'{type_name}' is not a valid resource type")
        found[type_name] = parse_fieldset(type_name, value, allowed[type_name])
    return found


def apply_fieldset(
    attributes: Mapping[str, Any], fieldset: frozenset[str] | None
) -> dict[str, Any]:
    """The attributes a sparse fieldset keeps; None means no `fields[...]` was given."""
    if fieldset is None:
        return dict(attributes)
    return {name: value for name, value in attributes.items() if name in fieldset}


def parse_include(value: str | None, allowed: Collection[str]) -> tuple[str, ...]:
    """Validated include paths in request order, without duplicates; dots nest (`events.x`)."""
    if not value:
        return ()
    paths: list[str] = []
    for path in value.split(","):
        if path not in allowed:
            raise QueryError("include", path, f"'{path}' is not an includable relationship")
        if path not in paths:
            paths.append(path)
    return tuple(paths)
