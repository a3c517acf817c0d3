"""JSON:API list machinery shared by jobs, related lists and target records: filter, sort, page."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any

from aiohttp import web

from ...domain.errors import BadRequest
from ...domain.jobs import view as job_view
from ...domain.lifecycle import View
from ...domain.model import ResourceType
from ...domain.store import Job, Packed
from ...keys import SETTINGS
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
from .jsonapi import base_url, resource, respond

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
    allowed = [r for r in relationships if r not in _NOT_INCLUDABLE]
    try:
        return parse_include(_joined(call, "include"), allowed)
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


def list_response(
    request: web.Request,
    call: Call,
    rtype: str,
    filterable: frozenset[str],
    sortable: frozenset[str],
    relationships: Sequence[str],
    items: Collection[Any],
    attrs_of: Callable[[Any], Mapping[str, Any]],
    render: Callable[[Any, frozenset[str] | None], dict[str, Any]],
    related: Callable[[Any, str], list[dict[str, Any]]] | None = None,
    known_fields: Sequence[str] | None = None,
    creation_sorted: bool = False,
) -> web.Response:
    """A filtered, sorted, paged JSON:API list of `items` (creation order when unsorted).

    `items` is a list or a dict's values view (reversible); `creation_sorted` says created_at
    never decreases along it, so created_at sorts are slices too.
    """
    raw_sort = call.query.get("sort")
    fast_sort = raw_sort in _FAST_SORTS and (creation_sorted or "created_at" not in (raw_sort or ""))
    descending = bool(_FAST_SORTS.get(raw_sort))
    number, size = _page(call)
    conditions = filter_params(call.raw_query)
    try:
        flt = parse_filters(conditions, filterable) if conditions else None
    except QueryError as err:
        raise _bad(err, f"filter[q][{err.name}]") from None
    if raw_sort and raw_sort.rsplit(",", 1)[-1] in ("created_at", "-created_at") and "id" in sortable:
        # Equal timestamps (a frozen clock) keep creation order, as the fast path does.
        raw_sort += ",-id" if raw_sort.endswith("-created_at") else ",id"
    try:
        # With a filter the rows are scanned anyway, so every given sort is applied to them.
        order = None if (fast_sort and flt is None) or not raw_sort else parse_sort(raw_sort, sortable)
    except QueryError as err:
        raise _bad(err, "sort") from None
    wanted = sparse_fields(call, rtype, known_fields or list(filterable | sortable))
    names = includes(call, relationships)
    if flt is None and order is None:
        # Fast path: creation order is id order, so the default sorts are slices, no scan.
        total = len(items)
        start = (number - 1) * size
        # islice over the (reversed) view: O(page end), never a copy of the whole store.
        ordered = reversed(items) if descending else iter(items)  # type: ignore[call-overload]
        page = list(islice(ordered, start, start + size))
    else:
        rows = [(item, attrs_of(item)) for item in items]
        if flt is not None:
            rows = [(item, a) for item, a in rows if flt.matches(a)]
        if order is not None:
            rows.sort(key=lambda row: order.key(row[1]))
        total = len(rows)
        start = (number - 1) * size
        page = [item for item, _ in rows[start : start + size]]
    page_count = -(-total // size)
    data = [render(item, wanted) for item in page]
    doc: dict[str, Any] = {"data": data}
    if names and related is not None:
        doc["included"] = _embed(data, page, names, related)
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


def related_response(request: web.Request, call: Call, name: str, items: list[dict[str, Any]]
                     ) -> web.Response:
    """A list of related resource objects (already rendered), filtered, sorted and paged."""
    known = sorted({k for item in items for k in item["attributes"]} | {"id"})
    return list_response(
        request, call, name, frozenset(known), frozenset(known), (),
        items,
        lambda item: {"id": item["id"], **item["attributes"]},
        lambda item, wanted: item if wanted is None else {
            **item, "attributes": {k: v for k, v in item["attributes"].items() if k in wanted}},
        known_fields=known,
    )
