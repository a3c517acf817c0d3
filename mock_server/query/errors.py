"""QueryError: a bad filter, sort, fieldset, include, page or marker in a list request."""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

QueryErrorKind = Literal["filter", "sort", "field", "include", "page", "marker"]

# jsonapi-resources codes (all 400) the server renders for each kind; "marker" is Rackspace-only.
JSONAPI_CODES = MappingProxyType(
    {
        "filter": "FILTER_NOT_ALLOWED",
        "sort": "INVALID_SORT_CRITERIA",
        "field": "INVALID_FIELD",
        "include": "INVALID_INCLUDE",
        "page": "INVALID_PAGE_VALUE",
        "marker": "INVALID_MARKER",
    }
)


class QueryError(Exception):
    """A query parameter the engine cannot honour; `name` is the offending key or value."""

    def __init__(self, kind: QueryErrorKind, name: str, detail: str) -> None:
        super().__init__(f"{kind} {name!r}: {detail}")
        self.kind: QueryErrorKind = kind
        self.name = name
        self.detail = detail
