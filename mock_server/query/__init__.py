"""Pure query engine: ransack filters, sorting, sparse fieldsets, includes and pagination."""

from __future__ import annotations

from .errors import JSONAPI_CODES, QueryError, QueryErrorKind
from .fields import apply_fieldset, parse_fieldset, parse_fieldsets, parse_include
from .paging import MAX_PAGE_SIZE, marker_page, marker_window, page_links, page_slice
from .predicates import Condition, Filter, ParsedKey, filter_params, parse_filters, parse_key
from .ransack import PREDICATES
from .sorting import Sort, SortField, parse_sort

__all__ = [
    "JSONAPI_CODES",
    "MAX_PAGE_SIZE",
    "PREDICATES",
    "Condition",
    "Filter",
    "ParsedKey",
    "QueryError",
    "QueryErrorKind",
    "Sort",
    "SortField",
    "apply_fieldset",
    "filter_params",
    "marker_page",
    "marker_window",
    "page_links",
    "page_slice",
    "parse_fieldset",
    "parse_fieldsets",
    "parse_filters",
    "parse_include",
    "parse_key",
    "parse_sort",
]
