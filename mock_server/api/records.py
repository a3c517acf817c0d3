"""GET /api/{resourceType}: the organization's target records, paged, filtered and sorted."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..app import SETTINGS
from ..validation import Call
from . import handles
from .cl_lists import list_response
from .commercelayer import cl_tenant
from .jsonapi import base_url, resource


@handles("listRecords")
async def list_records(request: web.Request, call: Call) -> web.StreamResponse:
    """Records of one type, with the same paging, filters and sort as job lists."""
    rtype = str(call.path["resourceType"])
    tenant = cl_tenant(request, call)
    records: list[dict[str, Any]] = tenant.records.list(rtype) if tenant.records is not None else []
    names = sorted({k for r in records[:50] for k in r if k != "type"} | {"id", "created_at"})
    base = base_url(request, request.app[SETTINGS].public_url)
    meta = {"mode": call.principal.mode, "organization_id": call.principal.org_id}

    def render(rec: dict[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
        attrs = {k: v for k, v in rec.items() if k not in ("id", "type")}
        if wanted is not None:
            attrs = {k: v for k, v in attrs.items() if k in wanted}
        return resource(base, rtype, rec["id"], attrs, (), meta)

    return list_response(
        request, call, rtype, frozenset(names), frozenset(names), (),
        records, lambda rec: rec, render, known_fields=names,
    )
