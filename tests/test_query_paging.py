"""Page-number and marker pagination: which records a page holds, and its links."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.query import QueryError, marker_page, marker_window, page_links, page_slice

BASE = "http://mock.test/api/imports"


@pytest.mark.parametrize(
    ("total", "number", "size", "expected"),
    [
        (0, 1, 10, (0, 0, 0)),
        (1, 1, 10, (0, 1, 1)),
        (10, 1, 10, (0, 10, 1)),
        (11, 2, 10, (10, 11, 2)),
        (25, 3, 10, (20, 25, 3)),
        (25, 4, 10, (25, 25, 3)),  # past the end: empty, not an error
        (7, 1, 25, (0, 7, 1)),
        (3, 2, 1, (1, 2, 3)),
    ],
)
def test_page_slice(total: int, number: int, size: int, expected: tuple[int, int, int]) -> None:
    assert page_slice(total, number, size) == expected


@pytest.mark.parametrize(
    ("number", "size", "name"),
    [
        (1, 0, "page[size]"),
        (1, 26, "page[size]"),
        (0, 10, "page[number]"),
        (-1, 10, "page[number]"),
    ],
)
def test_page_slice_rejects_out_of_range(number: int, size: int, name: str) -> None:
    with pytest.raises(QueryError) as caught:
        page_slice(100, number, size)
    assert (caught.value.kind, caught.value.name) == ("page", name)


@given(st.integers(0, 200), st.integers(1, 25))
def test_pages_cover_every_record_once_in_order(total: int, size: int) -> None:
    records = list(range(total))
    _, _, page_count = page_slice(total, 1, size)
    seen: list[int] = []
    for number in range(1, page_count + 2):  # one extra page past the end must be empty
        start, stop, count = page_slice(total, number, size)
        assert count == page_count
        seen.extend(records[start:stop])
    assert seen == records
    assert page_count == (0 if total == 0 else (total - 1) // size + 1)


def _page(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qsl(parts.query)


PARAMS = [
    ("filter[q][status_in]", "pending,completed"),
    ("page[number]", "2"),
    ("sort", "-created_at"),
    ("page[size]", "5"),
]


def test_links_on_a_middle_page_keep_other_params_in_order() -> None:
    links = page_links(BASE, PARAMS, 2, 4)
    assert set(links) == {"first", "prev", "next", "last"}
    for rel, number in (("first", "1"), ("prev", "1"), ("next", "3"), ("last", "4")):
        base, pairs = _page(links[rel])
        assert base == BASE
        assert pairs == [
            ("filter[q][status_in]", "pending,completed"),
            ("page[number]", number),
            ("sort", "-created_at"),
            ("page[size]", "5"),
        ]


def test_links_are_readable() -> None:
    links = page_links(BASE, [("filter[q][created_at_gt]", "2024-01-01T00:00:00Z")], 1, 1)
    assert links["first"] == f"{BASE}?filter[q][created_at_gt]=2024-01-01T00:00:00Z&page[number]=1"


@pytest.mark.parametrize(
    ("number", "page_count", "rels", "last"),
    [
        (1, 3, {"first", "next", "last"}, "3"),
        (3, 3, {"first", "prev", "last"}, "3"),
        (1, 1, {"first", "last"}, "1"),
        (1, 0, {"first", "last"}, "1"),  # no records: last still points to page 1
        (5, 3, {"first", "prev", "last"}, "3"),  # past the end: prev is number - 1
    ],
)
def test_which_links_appear(number: int, page_count: int, rels: set[str], last: str) -> None:
    links = page_links(BASE, [], number, page_count)
    assert set(links) == rels
    assert _page(links["last"])[1] == [("page[number]", last)]
    if "prev" in links:
        assert _page(links["prev"])[1] == [("page[number]", str(number - 1))]


def test_size_is_written_into_links_when_given() -> None:
    links = page_links(BASE, [("page[size]", "5"), ("page[size]", "7"), ("x", "1")], 1, 2, size=5)
    assert _page(links["next"])[1] == [("page[size]", "5"), ("x", "1"), ("page[number]", "2")]
    links = page_links(BASE, [("x", "1")], 1, 2, size=10)
    assert _page(links["next"])[1] == [("x", "1"), ("page[number]", "2"), ("page[size]", "10")]


IDS = ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize(
    ("marker", "limit", "sort_dir", "expected"),
    [
        (None, 2, "asc", ["01", "02"]),
        ("02", 2, "asc", ["03", "04"]),
        ("04", 2, "asc", ["05"]),
        ("05", 2, "asc", []),
        (None, 2, "desc", ["05", "04"]),
        ("04", 2, "desc", ["03", "02"]),
        ("02", 2, "desc", ["01"]),
        ("01", 2, "desc", []),
        (None, 100, "desc", ["05", "04", "03", "02", "01"]),
        ("03", 0, "asc", []),
    ],
)
def test_marker_pages(marker: str | None, limit: int, sort_dir: str, expected: list[str]) -> None:
    assert marker_window(IDS, IDS, marker, limit, sort_dir) == expected  # type: ignore[arg-type]
    start, stop = marker_page(IDS, marker, limit, sort_dir)  # type: ignore[arg-type]
    assert sorted(IDS[start:stop]) == sorted(expected)


@pytest.mark.parametrize(
    ("args", "kind", "name"),
    [
        (("nope", 2, "asc"), "marker", "nope"),
        (("01", -1, "asc"), "page", "limit"),
        (("01", 2, "up"), "sort", "sort_dir"),
    ],
)
def test_marker_errors(args: tuple[str, int, str], kind: str, name: str) -> None:
    with pytest.raises(QueryError) as caught:
        marker_page(IDS, *args)  # type: ignore[arg-type]
    assert (caught.value.kind, caught.value.name) == (kind, name)


@given(
    st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=40).map(sorted),
    st.integers(1, 7),
    st.sampled_from(["asc", "desc"]),
)
def test_marker_pages_walk_the_whole_set(ids: list[str], limit: int, sort_dir: str) -> None:
    """Following `next` (marker = last id of the page) visits every id once, in order."""
    seen: list[str] = []
    marker: str | None = None
    for _ in range(len(ids) + 2):
        page = marker_window(ids, ids, marker, limit, sort_dir)  # type: ignore[arg-type]
        assert len(page) <= limit
        if not page:
            break
        seen.extend(page)
        marker = page[-1]
    assert seen == (ids if sort_dir == "asc" else ids[::-1])
