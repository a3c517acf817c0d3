"""Which records a job works on: its resource type and its ransack `filters`, checked as 422s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.errors import Unprocessable
from ...query import QueryError, parse_filters
from .. import Catalog, RecordStore, RecordType

STAMPS = ("id", "created_at", "updated_at")
_SCALARS = frozenset({"string", "integer", "number", "boolean", "datetime"})
_WORDS = {"importable": "imported", "exportable": "exported", "cleanable": "cleaned up"}


def filterable(rtype: RecordType) -> frozenset[str]:
    """Names a list filter or a job's `filters` may use: every attribute, the stamps, `ids`."""
    return frozenset({*rtype.attributes, *STAMPS, "ids"})


def sortable(rtype: RecordType) -> frozenset[str]:
    """Names `sort` may use: scalar attributes and the stamps (objects and arrays do not sort)."""
    return frozenset({*(a for a, t in rtype.attributes.items() if t in _SCALARS), *STAMPS})


def record_type(catalog: Catalog, name: Any, job_word: str) -> RecordType:
    """The catalog type a job names; 422 when this kind of job cannot work on it."""
    if isinstance(name, str) and name in catalog:
        rtype = catalog[name]
        if getattr(rtype, job_word):
            return rtype
    allowed = ", ".join(catalog.names(**{job_word: True}))
    raise Unprocessable(
        f"resource_type - {name!r} cannot be {_WORDS[job_word]}; use one of: {allowed}",
        title="is not included in the list", pointer="/data/attributes/resource_type",
        meta={"error": "inclusion", "value": name})


def matching(store: RecordStore, rtype: RecordType, filters: Any) -> list[dict[str, Any]]:
    """The live records a job's `filters` select, in id order (the order sort=id shows)."""
    records = store.list(rtype.name)
    if filters:
        if not isinstance(filters, Mapping):
            raise Unprocessable("filters - must be an object of ransack predicates",
                                pointer="/data/attributes/filters", meta={"error": "invalid"})
        try:
            flt = parse_filters(filters, filterable(rtype))
            records = [r for r in records if flt.matches(r)]
        except QueryError as err:
            raise Unprocessable(f"filters - {err.detail}", title="is invalid",
                                pointer=f"/data/attributes/filters/{err.name}",
                                meta={"error": "invalid", "value": err.name}) from None
        except (TypeError, ValueError) as err:  # a value the predicate cannot compare
            raise Unprocessable(f"filters - {err}", title="is invalid",
                                pointer="/data/attributes/filters",
                                meta={"error": "invalid"}) from None
    return sorted(records, key=lambda r: str(r["id"]))  # ids compare as plain strings (§B5)


def attributes_of(rtype: RecordType, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's attributes as the API shows them: catalog order, then the timestamps.

    `type` is reserved by JSON:API (it names the resource type), so an attribute of that name
    is not shown.
    """
    out = {a: record.get(a) for a in rtype.attributes if a not in ("id", "type")}
    out["created_at"] = record.get("created_at")
    out["updated_at"] = record.get("updated_at")
    return out
