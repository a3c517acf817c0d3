"""Page-number pagination with JSON:API links, and Rackspace marker pagination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar
from urllib.parse import quote, urlencode

from .errors import QueryError

T = TypeVar("T")
MAX_PAGE_SIZE = 25  # Commerce Layer's documented maximum for page[size]
_PAGE_PARAMS = ("page[number]", "page[size]")


def page_slice(
    total: int, number: int, size: int, *, max_size: int = MAX_PAGE_SIZE
) -> tuple[int, int, int]:
    """(start, stop, page_count) of page `number`; a page past the end is empty, not an error.

    page_count is 0 when there are no records (as jsonapi-resources does).
    """
    if not 1 <= size <= max_size:
        raise QueryError("page", "page[size]", f"must be between 1 and {max_size}, got {size}")
    if number < 1:
        raise QueryError("page", "page[number]", f"must be 1 or more, got {number}")
    page_count = -(-total // size)
    start = min((number - 1) * size, total)
    return start, min(start + size, total), page_count


def _url(base_url: str, params: list[tuple[str, str]], number: int, size: int | None) -> str:
    pairs: list[tuple[str, str]] = []
    wanted = {"page[number]": str(number)}
    if size is not None:
        wanted["page[size]"] = str(size)
    seen: set[str] = set()
    for key, value in params:
        if key not in _PAGE_PARAMS:
            pairs.append((key, value))
        elif key not in seen:  # replaced where it stood; a repeated page param is dropped
            seen.add(key)
            pairs.append((key, wanted.pop(key, value)))
    pairs.extend(wanted.items())
    # Keep brackets, commas and colons readable, as the links are meant to be read and reused.
    return f"{base_url}?{urlencode(pairs, safe='[],:', quote_via=quote)}"


def page_links(
    base_url: str,
    params: list[tuple[str, str]],
    number: int,
    page_count: int,
    *,
    size: int | None = None,
) -> dict[str, str]:
    """JSON:API `first`, `prev` (not on page 1), `next` (not on the last page) and `last`.

    Other query params keep their order. With 0 pages, `last` points to page 1. `size`, when
    given, is written into every link; otherwise a `page[size]` in params is kept as sent.
    """
    last = max(page_count, 1)
    links = {"first": _url(base_url, params, 1, size)}
    # Like jsonapi-resources: prev is number - 1 even past the end; next only before the last.
    if number > 1:
        links["prev"] = _url(base_url, params, number - 1, size)
    if number < page_count:
        links["next"] = _url(base_url, params, number + 1, size)
    links["last"] = _url(base_url, params, last, size)
    return links


def marker_page(
    ids_in_order: Sequence[str],
    marker: str | None,
    limit: int,
    sort_dir: Literal["asc", "desc"],
) -> tuple[int, int]:
    """Half-open (start, stop) into ascending `ids_in_order` for a Rackspace page.

    The marker is exclusive. For `desc` the page is ids_in_order[start:stop] reversed: the
    `limit` ids just below the marker (or the newest ids without one).
    """
    if limit < 0:
        raise QueryError("page", "limit", f"must be 0 or more, got {limit}")
    if sort_dir not in ("asc", "desc"):
        raise QueryError("sort", "sort_dir", f"must be asc or desc, got {sort_dir!r}")
    total = len(ids_in_order)
    if marker is None:
        at = -1 if sort_dir == "asc" else total
    else:
        try:
            at = ids_in_order.index(marker)
        except ValueError:
            raise QueryError("marker", marker, f"no item with id {marker!r}") from None
    if sort_dir == "asc":
        return at + 1, min(at + 1 + limit, total)
    return max(at - limit, 0), at


def marker_window(
    items: Sequence[T],
    ids_in_order: Sequence[str],
    marker: str | None,
    limit: int,
    sort_dir: Literal["asc", "desc"],
) -> list[T]:
    """The page of `items` (aligned with `ids_in_order`) in response order."""
    start, stop = marker_page(ids_in_order, marker, limit, sort_dir)
    window = list(items[start:stop])
    return window if sort_dir == "asc" else window[::-1]
