"""Ransack filters (`filter[q][<attrs>_<predicate>]`, export/cleanup `filters`), compiled once."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .errors import QueryError
from .ransack import PREDICATES, Arity
from .values import is_opaque, parse_bool

Record = Mapping[str, Any]
R = TypeVar("R", bound=Record)
RecordTest = Callable[[Record], bool]


# Longest first, so `status_not_eq_or_null` is read as not_eq_or_null, not as eq_or_null.
_BY_LENGTH = tuple(sorted(PREDICATES, key=len, reverse=True))
_RANGES = {"_from": "gteq", "_to": "lteq"}
_COMBINATORS: tuple[tuple[str, Literal["or", "and"]], ...] = (("_or_", "or"), ("_and_", "and"))


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A filter key split into attribute names, how they combine, and the predicate."""

    attributes: tuple[str, ...]
    predicate: str
    combinator: Literal["or", "and"] = "or"


def _range(key: str, filterable: Collection[str]) -> ParsedKey | None:
    for suffix, predicate in _RANGES.items():
        base = key.removesuffix(suffix)
        # `<datetime>_from/_to`: listed as a special name, or derived from a filterable `*_at`.
        if base != key and base.endswith("_at") and (key in filterable or base in filterable):
            return ParsedKey((base,), predicate)
    return None


def _split(part: str, sep: str, attributes: Collection[str]) -> tuple[str, ...] | None:
    # Names contain underscores (reference_origin), so split only where both sides are known.
    if part in attributes:
        return (part,)
    at = part.find(sep)
    while at > 0:
        if part[:at] in attributes and (rest := _split(part[at + len(sep) :], sep, attributes)):
            return (part[:at], *rest)
        at = part.find(sep, at + 1)
    return None


def parse_key(key: str, filterable: Collection[str]) -> ParsedKey:
    """Read `created_at_or_updated_at_gt` as ((created_at, updated_at), gt, or)."""
    if key == "q" and "q" in filterable:
        return ParsedKey((), "q")
    if key == "ids" and "ids" in filterable:
        return ParsedKey(("id",), "in")
    if (ranged := _range(key, filterable)) is not None:
        return ranged
    attributes = {name for name in filterable if name not in ("q", "ids")}
    if key in attributes:
        return ParsedKey((key,), "eq")  # a bare attribute name means equality
    candidates = [p for p in _BY_LENGTH if key.endswith("_" + p) and len(key) > len(p) + 1]
    for predicate in candidates:
        part = key[: -len(predicate) - 1]
        for sep, combinator in _COMBINATORS:
            if names := _split(part, sep, attributes):
                return ParsedKey(names, predicate, combinator)
    if candidates:
        part = key[: -len(candidates[0]) - 1]
        raise QueryError("filter", key, f"'{part}' is not a filterable attribute")
    raise QueryError("filter", key, f"'{key}' is not a filterable attribute or known predicate")


def _values(key: str, arity: Arity, raw: Any) -> tuple[Any, ...] | None:
    """The condition's values, or None when ransack would drop it (blank or non-boolean value)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if arity == "json":
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise QueryError("filter", key, "expects a JSON object") from None
        if not isinstance(raw, Mapping | list):
            raise QueryError("filter", key, "expects a JSON object")
        return (raw,)
    if arity == "flag":
        flag = parse_bool(raw)
        return None if flag is None else (flag,)
    if arity == "one":
        if isinstance(raw, Mapping | list | tuple):
            raise QueryError("filter", key, "expects a single value, not a list or object")
        return (raw,)
    if isinstance(raw, str):
        items: Iterable[Any] = raw.split(",")  # query strings carry lists comma-separated
    else:
        items = raw if isinstance(raw, list | tuple) else [raw]
    if isinstance(raw, Mapping) or any(isinstance(i, Mapping | list | tuple) for i in items):
        raise QueryError("filter", key, "expects a list of values")
    kept = tuple(i.strip() if isinstance(i, str) else i for i in items)
    kept = tuple(i for i in kept if i is not None and i != "")
    return kept or None


def _record_test(parsed: ParsedKey, values: tuple[Any, ...]) -> RecordTest:
    if parsed.predicate == "q":
        needle = str(values[0]).lower()
        # Free text: any string attribute containing the text, ignoring case.
        return lambda r: any(isinstance(v, str) and needle in v.lower() for v in r.values())
    make = PREDICATES[parsed.predicate].make
    pairs = tuple((name, make(values, is_opaque(name))) for name in parsed.attributes)
    if len(pairs) == 1:
        ((name, test),) = pairs
        return lambda r: test(r.get(name))
    if parsed.combinator == "or":
        return lambda r: any(test(r.get(name)) for name, test in pairs)
    return lambda r: all(test(r.get(name)) for name, test in pairs)


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled filter condition; `test` takes a whole record."""

    key: str
    attributes: tuple[str, ...]
    predicate: str
    combinator: str
    values: tuple[Any, ...]
    test: RecordTest = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Filter:
    """Conditions AND-ed together, compiled once per request and applied to many records."""

    conditions: tuple[Condition, ...] = ()

    def matches(self, record: Record) -> bool:
        """True when the record satisfies every condition."""
        for condition in self.conditions:
            if not condition.test(record):
                return False
        return True

    def select(self, records: Iterable[R]) -> list[R]:
        """The matching records, in their original order."""
        if not self.conditions:
            return list(records)
        return [record for record in records if self.matches(record)]


def parse_filters(params: Mapping[str, Any], filterable: Collection[str]) -> Filter:
    """Compile ransack keys (no `filter[q]` wrapper) against the filterable names."""
    names = frozenset(filterable)
    conditions: list[Condition] = []
    for key, raw in params.items():
        parsed = parse_key(key, names)
        predicate = parsed.predicate
        if predicate == "eq" and isinstance(raw, list | tuple) and key in names:
            predicate, parsed = "in", ParsedKey(parsed.attributes, "in")
        arity: Arity = "one" if predicate == "q" else PREDICATES[predicate].arity
        values = _values(key, arity, raw)
        if values is None:
            continue  # ransack ignores conditions with a blank or unusable value
        test = _record_test(parsed, values)
        conditions.append(
            Condition(key, parsed.attributes, predicate, parsed.combinator, values, test)
        )
    return Filter(tuple(conditions))


def filter_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Pull `filter[q][key]=v` (or `filter[key]=v`) out of raw query pairs; `[]` keys collect."""
    found: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if not name.startswith("filter[") or not name.endswith("]"):
            continue
        inner = name[len("filter[") :].removeprefix("q][")
        if inner.endswith("][]"):
            listed = found.setdefault(inner[: -len("][]")], [])
            if isinstance(listed, list):
                listed.append(value)
        else:
            found[inner[:-1]] = value  # a repeated plain key: the last one wins, as in Rack
    return found
