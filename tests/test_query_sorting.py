"""Sorting as a user sees it: records in, ordered ids out."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.query import QueryError, parse_sort

RECORDS: list[dict[str, Any]] = [
    {"id": "c", "status": "pending", "created_at": "2024-01-02T00:00:00Z", "count": 10},
    {"id": "a", "status": "completed", "created_at": "2024-01-02T01:00:00+02:00", "count": 9},
    {"id": "b", "status": "pending", "created_at": None, "count": None},
    {"id": "d", "status": "completed", "created_at": "2024-01-01", "count": 100},
]
SORTABLE = {"id", "status", "created_at", "count"}


def order(value: str | None) -> list[str]:
    return [r["id"] for r in parse_sort(value, SORTABLE).apply(RECORDS)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["a", "b", "c", "d"]),  # no sort: by id
        ("", ["a", "b", "c", "d"]),
        ("id", ["a", "b", "c", "d"]),
        ("-id", ["d", "c", "b", "a"]),
        ("status", ["a", "d", "b", "c"]),  # ties broken by id
        ("-status", ["b", "c", "a", "d"]),
        ("-status,-id", ["c", "b", "d", "a"]),
        ("status,-created_at", ["a", "d", "c", "b"]),
        # None first ascending, last descending; +02:00 offset is read as a real instant
        ("created_at", ["b", "d", "a", "c"]),
        ("-created_at", ["c", "a", "d", "b"]),
        ("count", ["b", "a", "c", "d"]),  # numbers, not text
        ("-count", ["d", "c", "a", "b"]),
    ],
)
def test_sort_orders_records(value: str | None, expected: list[str]) -> None:
    assert order(value) == expected


def test_ids_sort_as_plain_strings() -> None:
    records = [{"id": "9"}, {"id": "10"}, {"id": "100"}, {"id": "B"}, {"id": "a"}]
    ordered = parse_sort("id", {"id"}).apply(records)
    assert [r["id"] for r in ordered] == ["10", "100", "9", "B", "a"]


def test_key_works_with_sorted() -> None:
    sort = parse_sort("-status", SORTABLE)
    assert [r["id"] for r in sorted(RECORDS, key=sort.key)] == ["b", "c", "a", "d"]


def test_mixed_types_in_one_column_do_not_crash() -> None:
    records: list[dict[str, Any]] = [
        {"id": "1", "x": "text"},
        {"id": "2", "x": 3},
        {"id": "3", "x": {"k": 1}},
        {"id": "4", "x": None},
        {"id": "5", "x": True},
    ]
    assert [r["id"] for r in parse_sort("x", {"x"}).apply(records)] == ["4", "5", "2", "1", "3"]
    assert [r["id"] for r in parse_sort("-x", {"x"}).apply(records)] == ["3", "1", "2", "5", "4"]


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("bogus", "bogus"),
        ("-bogus", "bogus"),
        ("status,metadata", "metadata"),
        ("status,", ""),
        ("+status", "+status"),
    ],
)
def test_unknown_sort_field(value: str, name: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_sort(value, SORTABLE)
    assert (caught.value.kind, caught.value.name) == ("sort", name)


@given(
    st.lists(
        st.fixed_dictionaries({"id": st.text(max_size=3), "v": st.none() | st.integers(-5, 5)}),
        max_size=20,
    )
)
def test_descending_is_ascending_reversed_within_ties(records: list[dict[str, Any]]) -> None:
    ups = [r["v"] for r in parse_sort("v", {"v"}).apply(records)]
    downs = [r["v"] for r in parse_sort("-v", {"v"}).apply(records)]
    assert downs == ups[::-1]
    assert ups == sorted(ups, key=lambda v: (v is not None, v or 0))
