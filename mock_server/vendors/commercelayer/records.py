"""GET /api/{resourceType}: the organization's target records, paged, filtered and sorted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ...domain.errors import NotFound
from ...handlers import handles
from ...keys import SETTINGS
from ...namespace_path import base_url
from ...records import RecordType, resolver
from ...records.simulation.org import org_records, packaged_catalog
from ...records.simulation.selection import attributes_of, filterable, sortable
from ...validation import Call
from .handlers import cl_tenant
from .jsonapi import resource, respond, sparse
from .lists import InMemory, list_response


def _in_id_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by id as plain strings: sort=id, id_lteq and the default order agree (§B5)."""
    if all(rows[i]["id"] <= rows[i + 1]["id"] for i in range(len(rows) - 1)):
        return rows  # the usual case: ids are handed out in creation order
    return sorted(rows, key=lambda r: str(r["id"]))


def _record_type(call: Call) -> RecordType:
    name = str(call.path["resourceType"])
    catalog = packaged_catalog()
    if name not in catalog:
        raise NotFound(f"No records of type {name!r}.", parameter="resourceType")
    return catalog[name]


@handles("getRecord")
async def get_record(request: web.Request, call: Call) -> web.StreamResponse:
    """One target record by id: where every record's links.self points."""
    rtype = _record_type(call)
    tenant = cl_tenant(request, call)
    records = org_records(tenant)
    rec = records.get(rtype.name, str(call.path["recordId"])) if records is not None else None
    if rec is None:
        raise NotFound(f"The requested {rtype.name} record {call.path['recordId']!r} was not found.")
    base = base_url(request, request.app[SETTINGS].public_url)
    meta = {"mode": call.principal.mode, "organization_id": call.principal.org_id}
    attrs = attributes_of(rtype, rec)
    return respond({"data": resource(base, rtype.name, rec["id"], attrs, rtype.relationships, meta)})


@handles("listRecords")
async def list_records(request: web.Request, call: Call) -> web.StreamResponse:
    """Records of one type, with the paging, filters, sort, fields and include of job lists.

    notes: schemathesis_and_clients.md §B5 — the cleanups CLI reads meta.record_count, then
    the last record of each chunk with sort=id&page[size]=1&page[number]=N.
    """
    rtype = _record_type(call)
    tenant = cl_tenant(request, call)
    records = org_records(tenant)
    rows = _in_id_order(records.list(rtype.name)) if records is not None else []
    base = base_url(request, request.app[SETTINGS].public_url)
    meta = {"mode": call.principal.mode, "organization_id": call.principal.org_id}
    return list_response(request, call, _Records(rows, rtype, records, base, meta))


class _Records(InMemory):
    """One type's records of an organization, as list_response pages them."""

    def __init__(self, rows: list[dict[str, Any]], rtype: RecordType, records: Any, base: str,
                 meta: dict[str, Any]) -> None:
        super().__init__(rows)
        self.type, self.base, self.meta = rtype, base, meta
        self.catalog = packaged_catalog()
        self.resolve = resolver(records, self.catalog, rtype) if records is not None else None
        self.rtype = rtype.name
        self.filterable, self.sortable = filterable(rtype), sortable(rtype)
        self.relationships = tuple(rtype.relationships)
        self.known_fields = tuple(attributes_of(rtype, {}))

    def attributes(self, item: Any) -> Mapping[str, Any]:
        return item  # type: ignore[no-any-return]

    def render(self, item: Any, wanted: frozenset[str] | None, rt: RecordType | None = None
               ) -> dict[str, Any]:
        rt = rt or self.type
        attrs = sparse(attributes_of(rt, item), wanted)
        return resource(self.base, rt.name, item["id"], attrs, rt.relationships, self.meta)

    def related(self, item: Any, rel: str) -> list[dict[str, Any]]:
        found = self.resolve(rel, item) if self.resolve is not None else None
        targets = found if isinstance(found, list) else ([] if found is None else [found])
        target_type = self.catalog[self.type.relationships[rel]]
        return [self.render(t, None, target_type) for t in targets]
