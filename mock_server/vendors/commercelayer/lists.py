"""JSON:API list machinery shared by jobs, related lists and target records: filter, sort, page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from aiohttp import web

from ...domain.errors import BadRequest
from ...domain.jobs import view as job_view
from ...domain.lifecycle import View
from ...domain.model import ResourceType
from ...domain.store import Job, Packed
from ...keys import SETTINGS
from ...namespace_path import base_url
from ...query import (
    JSONAPI_CODES,
    QueryError,
    filter_params,
    page_links,
    parse_fieldset,
    parse_filters,
    parse_include,
    parse_sort,
)
from ...timefmt import cl_time
from ...validation import Call
from .auth import stable_id
from .jsonapi import resource, respond

_NOT_INCLUDABLE = frozenset({"event_stores"})  # notes: commercelayer_api.md §1.1
_FAST_SORTS = {None: False, "": False, "id": False, "created_at": False,
               "-id": True, "-created_at": True}


def _bad(err: QueryError, parameter: str) -> BadRequest:
    return BadRequest(err.detail, code=JSONAPI_CODES.get(err.kind, "BAD_REQUEST"),
                      title=f"Invalid {err.kind}", parameter=parameter)


def _joined(call: Call, name: str) -> str | None:
    values = [v for k, v in call.raw_query if k == name]
    return ",".join(values) if values else None


def sparse_fields(call: Call, rtype: str, known: Sequence[str]) -> frozenset[str] | None:
    """fields[<type>]=a,b → the wanted attributes; 400 INVALID_FIELD names an unknown one."""
    name = f"fields[{rtype}]"
    value = _joined(call, name)
    if value is None:
        return None
    try:
        return parse_fieldset(rtype, value, known)
    except QueryError as err:
        raise _bad(err, name) from None


def includes(call: Call, relationships: Sequence[str]) -> tuple[str, ...]:
    """include=a,b → relationships to embed; 400 INVALID_INCLUDE names an unknown one."""
    value = _joined(call, "include")
    if value is None:
        return ()
    allowed = [r for r in relationships if r not in _NOT_INCLUDABLE]
    try:
        return parse_include(value, allowed)
    except QueryError as err:
        raise _bad(err, "include") from None


def _embed(doc_items: list[dict[str, Any]], items: Sequence[Any], names: Sequence[str],
           related: Callable[[Any, str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    included: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for obj, item in zip(doc_items, items, strict=True):
        for name in names:
            rel = related(item, name)
            obj["relationships"][name]["data"] = [{"type": r["type"], "id": r["id"]} for r in rel]
            for r in rel:
                if (r["type"], r["id"]) not in seen:
                    seen.add((r["type"], r["id"]))
                    included.append(r)
    return included


def _page(call: Call) -> tuple[int, int]:
    number = call.query.get("page[number]") or 1
    size = call.query.get("page[size]") or 10
    return int(number), int(size)


class Listing:
    """A collection `list_response` pages: its rules, and how to read and show its items.

    Subclasses say where the items are (`count`, `page`, `scan`) and how one is seen
    (`attributes` for filters and sorts, `render` for the page, `related` for include).
    """

    rtype: str
    filterable: frozenset[str]
    sortable: frozenset[str]
    relationships: Sequence[str] = ()
    known_fields: Sequence[str] = ()
    creation_sorted: bool = False  # created_at never decreases in creation order

    def count(self) -> int:
        """How many items there are."""
        raise NotImplementedError

    def page(self, start: int, size: int, newest_first: bool) -> list[Any]:
        """Items `start` to `start + size` in creation order (or the reverse)."""
        raise NotImplementedError

    def scan(self) -> Iterable[Any]:
        """Every item in creation order (filters and sorts read them all)."""
        raise NotImplementedError

    def attributes(self, item: Any) -> Mapping[str, Any]:
        """What filters and sorts see of an item (its id included)."""
        raise NotImplementedError

    def render(self, item: Any, wanted: frozenset[str] | None) -> Any:
        """An item as a resource object, with only the `wanted` attributes (None: all)."""
        raise NotImplementedError

    def related(self, item: Any, name: str) -> list[dict[str, Any]]:
        """The resource objects an item's relationship `name` points at (for include)."""
        return []


class InMemory(Listing):
    """A listing of items already at hand, in creation order."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items

    def count(self) -> int:
        return len(self.items)

    def page(self, start: int, size: int, newest_first: bool) -> list[Any]:
        items = self.items[::-1] if newest_first else self.items
        return list(items[start : start + size])

    def scan(self) -> Iterable[Any]:
        return self.items


def list_response(request: web.Request, call: Call, listing: Listing) -> web.Response:
    """A filtered, sorted, paged JSON:API list (creation order when unsorted)."""
    raw_sort = call.query.get("sort")
    fast_sort = raw_sort in _FAST_SORTS and (listing.creation_sorted
                                             or "created_at" not in (raw_sort or ""))
    descending = bool(_FAST_SORTS.get(raw_sort))
    number, size = _page(call)
    conditions = filter_params(call.raw_query)
    try:
        flt = parse_filters(conditions, listing.filterable) if conditions else None
    except QueryError as err:
        raise _bad(err, f"filter[q][{err.name}]") from None
    if raw_sort and raw_sort.rsplit(",", 1)[-1] in ("created_at", "-created_at") \
            and "id" in listing.sortable:
        # Equal timestamps (a frozen clock) keep creation order, as the fast path does.
        raw_sort += ",-id" if raw_sort.endswith("-created_at") else ",id"
    try:
        # With a filter the rows are scanned anyway, so every given sort is applied to them.
        order = (None if (fast_sort and flt is None) or not raw_sort
                 else parse_sort(raw_sort, listing.sortable))
    except QueryError as err:
        raise _bad(err, "sort") from None
    wanted = sparse_fields(call, listing.rtype,
                           listing.known_fields or sorted(listing.filterable | listing.sortable))
    names = includes(call, listing.relationships)
    start = (number - 1) * size
    if flt is None and order is None:
        # Creation order is id order, so the default sorts are pages of storage, no scan.
        total = listing.count()
        page = listing.page(start, size, descending)
    else:
        rows = [(item, listing.attributes(item)) for item in listing.scan()]
        if flt is not None:
            rows = [(item, a) for item, a in rows if flt.matches(a)]
        if order is not None:
            rows.sort(key=lambda row: order.key(row[1]))
        total = len(rows)
        page = [item for item, _ in rows[start : start + size]]
    page_count = -(-total // size)
    data = [listing.render(item, wanted) for item in page]
    doc: dict[str, Any] = {"data": data}
    if names:
        doc["included"] = _embed(data, page, names, listing.related)
    doc["meta"] = {"record_count": total, "page_count": page_count}
    base = base_url(request, request.app[SETTINGS].public_url)
    doc["links"] = dict(_links(base + request.path, tuple(call.raw_query), number, page_count, size))
    return respond(doc)


@lru_cache(maxsize=256)  # pollers repeat the same list URL; links cost ~30 µs to build
def _links(url: str, raw_query: tuple[tuple[str, str], ...], number: int, page_count: int,
           size: int) -> dict[str, str]:
    return page_links(url, list(raw_query), number, page_count, size=size)


def single_response(
    request: web.Request,
    call: Call,
    rtype: str,
    relationships: Sequence[str],
    item: Any,
    render: Callable[[Any, frozenset[str] | None], dict[str, Any]],
    related: Callable[[Any, str], list[dict[str, Any]]],
    known_fields: Sequence[str] | None = None,
) -> web.Response:
    """One resource with sparse fields and included relationships."""
    wanted = sparse_fields(call, rtype, known_fields or _known(request, rtype))
    names = includes(call, relationships)
    data = render(item, wanted)
    doc: dict[str, Any] = {"data": data}
    if names:
        doc["included"] = _embed([data], [item], names, related)
    return respond(doc)


def _known(request: web.Request, rtype: str) -> Sequence[str]:
    from ...keys import TYPES

    rt = request.app[TYPES].get(rtype)
    return rt.attributes if rt else ()


# Status → webhook-style event name. notes: commercelayer_api.md §2.1 "Webhook topics"
EVENT_NAMES = {"pending": "create", "in_progress": "start", "completed": "complete",
               "interrupted": "interrupt", "failed": "fail"}


def related_items(request: web.Request, call: Call, rt: ResourceType, job: Job, name: str
                  ) -> list[dict[str, Any]]:
    """events / versions / event_stores of a job, derived from its plan and changes."""
    base = base_url(request, request.app[SETTINGS].public_url)
    meta = {"mode": call.principal.mode, "organization_id": call.principal.org_id}
    seen: View = job_view(rt.lifecycle, job, call.now)
    out: list[dict[str, Any]] = []
    if name in ("events", "event_stores"):
        for i, (status, at) in enumerate(seen.transitions):
            event = EVENT_NAMES.get(status, status)
            rid = stable_id(name, job.id, str(i))
            attrs: dict[str, Any] = {"name": event, "created_at": cl_time(at), "updated_at": cl_time(at),
                                     "reference": None, "reference_origin": None, "metadata": {}}
            if name == "event_stores":
                attrs = {"resource_type": rt.name, "resource_id": job.id, "event": event,
                         "payload": {"status": status}, "who": {}, "created_at": cl_time(at),
                         "updated_at": cl_time(at), "metadata": {}}
            out.append(resource(base, name, rid, attrs, (), meta))
    elif name == "versions":
        history = [(job.created_at, "create", {k: [None, v] for k, v in job.fields.items()
                                              if not isinstance(v, list | dict | Packed)
                                              or k == "metadata"})]
        history += [(at, "update", changes) for at, changes in job.changes or ()]
        for i, (at, event, changes) in enumerate(history):
            rid = stable_id("versions", job.id, str(i))
            attrs = {"resource_type": rt.name, "resource_id": job.id, "event": event,
                     "changes": changes, "who": {}, "created_at": cl_time(at),
                     "updated_at": cl_time(at), "reference": None, "reference_origin": None,
                     "metadata": {}}
            out.append(resource(base, name, rid, attrs, (), meta))
    return out


class _Related(InMemory):
    """A job's events, versions or event stores (already rendered)."""

    def __init__(self, name: str, items: list[dict[str, Any]]) -> None:
        super().__init__(items)
        known = sorted({k for item in items for k in item["attributes"]} | {"id"})
        self.rtype, self.known_fields = name, known
        self.filterable = self.sortable = frozenset(known)

    def attributes(self, item: Any) -> Mapping[str, Any]:
        return {"id": item["id"], **item["attributes"]}

    def render(self, item: Any, wanted: frozenset[str] | None) -> Any:
        if wanted is None:
            return item
        return {**item, "attributes": {k: v for k, v in item["attributes"].items() if k in wanted}}


def related_response(request: web.Request, call: Call, name: str, items: list[dict[str, Any]]
                     ) -> web.Response:
    """A list of related resource objects (already rendered), filtered, sorted and paged."""
    return list_response(request, call, _Related(name, items))
