"""Sparse fieldsets and include parsing."""

from __future__ import annotations

import pytest

from mock_server.query import (
    QueryError,
    apply_fieldset,
    parse_fieldset,
    parse_fieldsets,
    parse_include,
)

ALLOWED = {"imports": {"status", "reference", "processed_count"}, "events": {"name"}}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("status,processed_count", {"status", "processed_count"}),
        ("status", {"status"}),
        ("id,status", {"id", "status"}),
        ("status,,status", {"status"}),
        ("", set()),
    ],
)
def test_parse_fieldset(value: str, expected: set[str]) -> None:
    assert parse_fieldset("imports", value, ALLOWED["imports"]) == expected


def test_parse_fieldsets_from_raw_query() -> None:
    pairs = [("fields[imports]", "status"), ("sort", "id"), ("fields[events]", "name")]
    assert parse_fieldsets(pairs, ALLOWED) == {"imports": {"status"}, "events": {"name"}}


@pytest.mark.parametrize(
    ("pairs", "name"),
    [
        ([("fields[imports]", "status,bogus")], "bogus"),
        ([("fields[imports]", "metadata")], "metadata"),
        ([("fields[nope]", "status")], "nope"),
    ],
)
def test_unknown_field(pairs: list[tuple[str, str]], name: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_fieldsets(pairs, ALLOWED)
    assert (caught.value.kind, caught.value.name) == ("field", name)


def test_apply_fieldset() -> None:
    attributes = {"status": "pending", "reference": None, "processed_count": 0}
    assert apply_fieldset(attributes, frozenset({"status"})) == {"status": "pending"}
    assert apply_fieldset(attributes, None) == attributes


INCLUDES = {"events", "versions", "events.versions"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("events", ("events",)),
        ("versions,events,versions", ("versions", "events")),
        ("events.versions", ("events.versions",)),
    ],
)
def test_parse_include(value: str | None, expected: tuple[str, ...]) -> None:
    assert parse_include(value, INCLUDES) == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("event_stores", "event_stores"),
        ("events,bogus", "bogus"),
        ("events.bogus", "events.bogus"),
        ("events,", ""),
    ],
)
def test_unknown_include(value: str, name: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_include(value, INCLUDES)
    assert (caught.value.kind, caught.value.name) == ("include", name)
