"""Ransack filters as a user sees them: records in, matching ids out."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.query import (
    PREDICATES,
    QueryError,
    filter_params,
    parse_filters,
    parse_key,
    parse_sort,
)

RECORDS: list[dict[str, Any]] = [
    {
        "id": "a1",
        "status": "completed",
        "reference": "SHIRT-red",
        "reference_origin": "cli",
        "processed_count": 10,
        "created_at": "2024-01-01T10:00:00.000Z",
        "updated_at": "2024-03-01T00:00:00.000Z",
        "completed_at": "2024-01-01T10:05:00.000Z",
        "metadata": {"team": "a", "tags": ["x", "y"]},
        "attachment_url": "https://s3.example/a1.gz",
        "skip_errors": True,
    },
    {
        "id": "b2",
        "status": "in_progress",
        "reference": "shirt-blue",
        "reference_origin": "dashboard",
        "processed_count": 2,
        "created_at": "2024-01-02T00:00:00+02:00",  # 2024-01-01T22:00Z
        "updated_at": "2024-01-02T00:00:00Z",
        "completed_at": None,
        "metadata": {"team": "b"},
        "attachment_url": "",
        "skip_errors": False,
    },
    {
        "id": "c3",
        "status": "pending",
        "reference": None,
        "reference_origin": None,
        "processed_count": 0,
        "created_at": "2024-02-10T00:00:00.000Z",
        "updated_at": "2024-02-10T00:00:00.000Z",
        "completed_at": None,
        "metadata": {},
        "attachment_url": None,
        "skip_errors": None,
    },
    {
        "id": "d4",
        "status": "interrupted",
        "reference": "PANTS_50%",
        "reference_origin": "cli",
        "processed_count": 100,
        "created_at": "2023-12-31T23:59:59Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "completed_at": None,
        "metadata": {"team": "a"},
        "attachment_url": None,
        "skip_errors": False,
    },
]
FILTERABLE = frozenset(
    {
        *RECORDS[0],
        "q",
        "ids",
        "created_at_from",
        "created_at_to",
    }
)


def ids(params: dict[str, Any], records: list[dict[str, Any]] = RECORDS) -> list[str]:
    return [r["id"] for r in parse_filters(params, FILTERABLE).select(records)]


CASES: list[tuple[str, Any, list[str]]] = [
    ("status_eq", "completed", ["a1"]),
    ("skip_errors_eq", True, ["a1"]),
    ("reference_origin_eq_or_null", "cli", ["a1", "c3", "d4"]),
    ("status_not_eq", "completed", ["b2", "c3", "d4"]),
    ("reference_origin_not_eq_or_null", "cli", ["b2", "c3"]),
    ("reference_matches", "shirt-%", ["a1", "b2"]),
    ("reference_matches", "shirt-re_", ["a1"]),
    ("reference_matches", r"%50\%", ["d4"]),
    ("reference_does_not_match", "shirt%", ["d4"]),
    ("reference_matches_any", "pants%,%blue", ["b2", "d4"]),
    ("reference_matches_all", ["shirt%", "%red"], ["a1"]),
    ("reference_does_not_match_any", "shirt%,%red", ["b2", "d4"]),
    ("reference_does_not_match_all", "shirt%,%blue", ["d4"]),
    ("processed_count_lt", "10", ["b2", "c3"]),
    ("processed_count_lteq", 10, ["a1", "b2", "c3"]),
    ("processed_count_gt", "2", ["a1", "d4"]),
    ("processed_count_gteq", "2", ["a1", "b2", "d4"]),
    ("reference_present", "true", ["a1", "b2", "d4"]),
    ("attachment_url_present", "1", ["a1"]),
    ("attachment_url_present", "false", ["b2", "c3", "d4"]),
    ("attachment_url_blank", True, ["b2", "c3", "d4"]),
    ("metadata_blank", "true", ["c3"]),
    ("completed_at_null", "true", ["b2", "c3", "d4"]),
    ("completed_at_null", "false", ["a1"]),
    ("completed_at_not_null", "1", ["a1"]),
    ("completed_at_not_null", "0", ["b2", "c3", "d4"]),
    ("status_in", "completed,pending", ["a1", "c3"]),
    ("status_in", ["completed", "pending"], ["a1", "c3"]),
    ("reference_origin_in_or_null", "dashboard", ["b2", "c3"]),
    ("status_not_in", "completed, pending", ["b2", "d4"]),
    ("reference_origin_not_in", "cli", ["b2"]),
    ("reference_origin_not_in_or_null", ["cli"], ["b2", "c3"]),
    ("processed_count_lt_any", "1,3", ["b2", "c3"]),
    ("processed_count_lt_all", "3,50", ["b2", "c3"]),
    ("processed_count_lteq_any", "0,10", ["a1", "b2", "c3"]),
    ("processed_count_lteq_all", [2, 10], ["b2", "c3"]),
    ("processed_count_gt_any", "50,5", ["a1", "d4"]),
    ("processed_count_gt_all", "5,50", ["d4"]),
    ("processed_count_gteq_any", "100,10", ["a1", "d4"]),
    ("processed_count_gteq_all", "2,10", ["a1", "d4"]),
    ("status_not_eq_all", "completed,pending", ["b2", "d4"]),
    ("status_eq_any", "completed,interrupted", ["a1", "d4"]),
    ("reference_start", "SHIRT", ["a1", "b2"]),
    ("reference_not_start", "shirt", ["d4"]),
    ("reference_start_any", "pants,shirt-b", ["b2", "d4"]),
    ("reference_start_all", "shirt,shirt-r", ["a1"]),
    ("reference_not_start_any", "shirt-r,pants", ["a1", "b2", "d4"]),
    ("reference_not_start_all", "shirt-r,pants", ["b2"]),
    ("reference_end", "RED", ["a1"]),
    ("reference_not_end", "red", ["b2", "d4"]),
    ("reference_end_any", "red,blue", ["a1", "b2"]),
    ("reference_end_all", "e,ue", ["b2"]),
    ("reference_not_end_any", "red,blue", ["a1", "b2", "d4"]),
    ("reference_not_end_all", "red,blue", ["d4"]),
    ("reference_cont", "IRT", ["a1", "b2"]),
    ("reference_cont", "50%", ["d4"]),  # wildcards are literal in cont
    ("reference_cont", "_", ["d4"]),
    ("reference_not_cont", "blue", ["a1", "d4"]),
    ("reference_cont_any", "red,pants", ["a1", "d4"]),
    ("reference_cont_all", "shirt,blue", ["b2"]),
    ("reference_not_cont_all", "shirt,red", ["d4"]),
    ("metadata_jcont", '{"team": "a"}', ["a1", "d4"]),
    ("metadata_jcont", {"tags": ["x"]}, ["a1"]),
    ("metadata_jcont", {"team": "a", "tags": ["z"]}, []),
    ("skip_errors_true", "true", ["a1"]),
    ("skip_errors_true", "false", ["b2", "d4"]),
    ("skip_errors_false", "1", ["b2", "d4"]),
    ("skip_errors_false", False, ["a1"]),
    # <datetime>_from / _to, listed in filterable or derived from a filterable *_at
    ("created_at_from", "2024-01-01", ["a1", "b2", "c3"]),
    ("created_at_to", "2024-01-01T12:00:00Z", ["a1", "d4"]),
    ("updated_at_to", "2024-01-01", ["d4"]),
    # datetimes compare as datetimes across Z, offsets, milliseconds and date-only values
    ("created_at_gt", "2024-01-01T23:00:00+02:00", ["b2", "c3"]),
    ("created_at_eq", "2024-01-01T22:00:00Z", ["b2"]),
    ("created_at_lt", "2024-01-01", ["d4"]),
    # numbers against numeric strings
    ("processed_count_eq", "10.0", ["a1"]),
    ("processed_count_in", "0,100", ["c3", "d4"]),
    # _or_ / _and_ over attribute names that contain underscores
    ("created_at_or_updated_at_gt", "2024-02-01", ["a1", "c3"]),
    ("created_at_and_updated_at_gt", "2024-01-01T12:00:00Z", ["b2", "c3"]),
    ("reference_or_reference_origin_cont", "DASH", ["b2"]),
    ("reference_origin_or_status_eq", "pending", ["c3"]),
    # special names and bare attributes
    ("q", "Blue", ["b2"]),
    ("q", "cli", ["a1", "d4"]),
    ("ids", "a1,c3", ["a1", "c3"]),
    ("status", "pending", ["c3"]),
    ("status", ["pending", "completed"], ["a1", "c3"]),
    ("id_lteq", "b2", ["a1", "b2"]),
    # ransack drops a condition whose value is blank or not a boolean
    ("status_eq", "", ["a1", "b2", "c3", "d4"]),
    ("status_in", " , ", ["a1", "b2", "c3", "d4"]),
    ("completed_at_null", "maybe", ["a1", "b2", "c3", "d4"]),
    ("status_eq", None, ["a1", "b2", "c3", "d4"]),
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES, ids=lambda v: str(v))
def test_filter_selects(key: str, value: Any, expected: list[str]) -> None:
    assert ids({key: value}) == expected


def test_every_predicate_is_exercised() -> None:
    used = {parse_key(key, FILTERABLE).predicate for key, _, _ in CASES}
    assert set(PREDICATES) <= used


def test_conditions_combine_with_and() -> None:
    params = {"reference_origin_eq": "cli", "processed_count_gt": 50}
    assert ids(params) == ["d4"]


def test_export_filters_attribute_with_native_values() -> None:
    skus = [
        {"id": "s1", "code": "SHIRT-S", "status": "a"},
        {"id": "s2", "code": "SHIRT-M", "status": "b"},
        {"id": "s3", "code": "SHIRT-L", "status": "c"},
        {"id": "s4", "code": "PANTS", "status": "a"},
    ]
    params = {"code_start": "SHIRT", "id_lteq": "s2", "status_in": ["a", "b"]}
    found = parse_filters(params, {"id", "code", "status"}).select(skus)
    assert [r["id"] for r in found] == ["s1", "s2"]


def test_posix_timestamps_compare_with_iso_operands() -> None:
    records = [{"id": "x", "created_at": 1704067200.0}, {"id": "y", "created_at": 1.0}]
    assert ids({"created_at_gteq": "2024-01-01T00:00:00Z"}, records) == ["x"]


def test_numeric_strings_compare_as_numbers() -> None:
    records = [{"id": "x", "reference": "9"}, {"id": "y", "reference": "10"}]
    assert ids({"reference_gt": "9"}, records) == ["y"]


def test_ids_compare_as_plain_strings() -> None:
    records = [{"id": "9"}, {"id": "10"}, {"id": "100"}]
    assert ids({"id_lt": "9"}, records) == ["10", "100"]


@given(
    st.lists(st.text("019aZz-_", min_size=1, max_size=4), unique=True, max_size=30),
    st.text("019aZz-_", min_size=1, max_size=4),
)
def test_id_filters_agree_with_sort_by_id(all_ids: list[str], pivot: str) -> None:
    """The cleanups CLI pages with sort=id plus id_lteq: both must use one ordering."""
    records = [{"id": i} for i in all_ids]
    ordered = parse_sort("id", {"id"}).apply(records)
    for predicate, keep in (("lteq", str.__le__), ("lt", str.__lt__), ("gt", str.__gt__)):
        chosen = parse_filters({f"id_{predicate}": pivot}, {"id"}).select(ordered)
        assert chosen == [r for r in ordered if keep(r["id"], pivot)]
    assert [r["id"] for r in ordered] == sorted(all_ids)


@pytest.mark.parametrize(
    ("key", "filterable", "name", "detail"),
    [
        ("bogus_eq", FILTERABLE, "bogus_eq", "'bogus'"),
        ("status_bogus", FILTERABLE, "status_bogus", "'status_bogus'"),
        ("status_or_bogus_eq", FILTERABLE, "status_or_bogus_eq", "'status_or_bogus'"),
        ("status_eq_all", FILTERABLE, "status_eq_all", "'status_eq_all'"),
        ("q", {"status"}, "q", "'q'"),
        ("ids", {"status"}, "ids", "'ids'"),
        ("_eq", FILTERABLE, "_eq", "'_eq'"),
    ],
)
def test_unknown_attribute_or_predicate(
    key: str, filterable: frozenset[str], name: str, detail: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_filters({key: "x"}, filterable)
    assert (caught.value.kind, caught.value.name) == ("filter", name)
    assert detail in caught.value.detail


@pytest.mark.parametrize(
    ("key", "value", "detail"),
    [
        ("metadata_jcont", "not json", "JSON object"),
        ("metadata_jcont", "42", "JSON object"),
        ("metadata_eq", {"team": "a"}, "single value"),
        ("status_eq", ["a", "b"], "single value"),
        ("status_in", {"a": 1}, "list"),
        ("status_in", [["a"]], "list"),
    ],
)
def test_unusable_values(key: str, value: Any, detail: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_filters({key: value}, FILTERABLE)
    assert (caught.value.kind, caught.value.name) == ("filter", key)
    assert detail in caught.value.detail


@pytest.mark.parametrize(
    ("key", "attributes", "predicate", "combinator"),
    [
        ("created_at_or_updated_at_gt", ("created_at", "updated_at"), "gt", "or"),
        ("reference_origin_not_eq_or_null", ("reference_origin",), "not_eq_or_null", "or"),
        ("processed_count_not_in", ("processed_count",), "not_in", "or"),
        ("status_and_reference_cont", ("status", "reference"), "cont", "and"),
        ("created_at_from", ("created_at",), "gteq", "or"),
        ("completed_at_to", ("completed_at",), "lteq", "or"),
        ("ids", ("id",), "in", "or"),
        ("q", (), "q", "or"),
    ],
)
def test_parse_key(key: str, attributes: tuple[str, ...], predicate: str, combinator: str) -> None:
    parsed = parse_key(key, FILTERABLE)
    assert (parsed.attributes, parsed.predicate, parsed.combinator) == (
        attributes,
        predicate,
        combinator,
    )


def test_attribute_names_that_look_like_combinators() -> None:
    filterable = {"color_or_size", "color", "size_eq_x"}
    assert parse_key("color_or_size_eq", filterable).attributes == ("color_or_size",)
    assert parse_key("size_eq_x_eq", filterable).attributes == ("size_eq_x",)


def test_filter_params_from_raw_query() -> None:
    pairs = [
        ("filter[q][status_eq]", "completed"),
        ("page[number]", "2"),
        ("filter[q][status_in][]", "a"),
        ("filter[q][status_in][]", "b"),
        ("filter[reference_cont]", "x"),
        ("sort", "-created_at"),
    ]
    assert filter_params(pairs) == {
        "status_eq": "completed",
        "status_in": ["a", "b"],
        "reference_cont": "x",
    }


def test_empty_filter_keeps_everything_in_order() -> None:
    assert ids({}) == ["a1", "b2", "c3", "d4"]
