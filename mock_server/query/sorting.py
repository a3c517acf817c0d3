"""JSON:API `sort=-created_at,status`: parsed once, then a key function for sorted()."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import QueryError
from .values import is_opaque, sort_value

Record = Mapping[str, Any]
R = TypeVar("R", bound=Record)


class _Descending:
    """Wraps a sort value so that tuple comparison orders it backwards."""

    __slots__ = ("value",)

    def __init__(self, value: tuple[Any, ...]) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SortField:
    """One `sort` item: an attribute and its direction."""

    name: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Sort:
    """An ordering of records; ties always fall back to the record's `id` as a plain string.

    None sorts first ascending (so last descending). Deliberate: one rule for every type;
    PostgreSQL's own default is NULLS LAST for ASC, which the real API may follow.
    Ids are compared as plain strings, the same ordering `id_lt`/`id_lteq` filters use.
    """

    fields: tuple[SortField, ...] = ()

    def key(self, record: Record) -> tuple[Any, ...]:
        """The sort key of one record, for sorted(records, key=sort.key)."""
        parts: list[Any] = []
        for item in self.fields:
            value = sort_value(record.get(item.name), is_opaque(item.name))
            parts.append(_Descending(value) if item.descending else value)
        parts.append(str(record.get("id") or ""))
        return tuple(parts)

    def apply(self, records: Iterable[R]) -> list[R]:
        """The records in this order."""
        return sorted(records, key=self.key)


def parse_sort(value: str | None, sortable: Collection[str]) -> Sort:
    """Parse a `sort` parameter against the sortable field names; empty means by id only."""
    if not value:
        return Sort()
    fields: list[SortField] = []
    for item in value.split(","):
        name = item.removeprefix("-")
        if name not in sortable:
            raise QueryError("sort", name or item, f"'{item}' is not a sortable field")
        fields.append(SortField(name, item.startswith("-")))
    return Sort(tuple(fields))
