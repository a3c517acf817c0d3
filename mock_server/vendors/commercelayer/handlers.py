"""Commerce Layer job handlers (imports, exports, cleanups): parse → domain → JSON:API render."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from aiohttp import web

from ... import fast_path
from ...domain import jobs
from ...domain.errors import BadRequest, NotFound, Unprocessable
from ...domain.lifecycle import View
from ...domain.model import ResourceType
from ...domain.store import Job, Tenant
from ...handlers import handles, shows, tenant_of
from ...jsonenc import dumps_kept, fragment
from ...keys import HOOKS, RENDERS, SETTINGS, STORE, TYPES
from ...namespace_path import base_url
from ...render_cache import Stamp
from ...timefmt import cl_time
from ...validation import Call
from .auth import Principal
from .jsonapi import resource, respond, sparse
from .lists import (
    EVENT_NAMES,
    Listing,
    list_response,
    related_items,
    related_response,
    single_response,
)

KIND_BY_OP = {
    "Import": "imports",
    "Export": "exports",
    "Cleanup": "cleanups",
}


def _kind(call: Call) -> str:
    return _kind_of(call.op.operation_id)


@lru_cache(maxsize=64)
def _kind_of(operation_id: str) -> str:
    for word, kind in KIND_BY_OP.items():
        if word in operation_id:
            return kind
    raise RuntimeError(f"no job type for {operation_id}")


def cl_tenant(request: web.Request, call: Call) -> Tenant:
    """The caller's organization (per environment), with every effect due by now applied."""
    p: Principal = call.principal
    tenant = tenant_of(request, call, "cl", p.org_slug, p.mode)
    request.app[HOOKS].settle_all(tenant, call.now)
    return tenant


def attributes(
    app: web.Application, rt: ResourceType, tenant: Tenant, job: Job, now: float,
    seen: View | None = None,
) -> dict[str, Any]:
    """Every read attribute of a job at `now` (`seen`: the job at `now`, if the caller has it):
    lifecycle fields computed, the rest as given."""
    lc = rt.lifecycle
    if seen is None:
        seen = jobs.view(lc, job, now)
    status = seen.status
    computed: dict[str, Any] = {
        rt.status_field: status,
        "started_at": cl_time(seen.started_at),
        "completed_at": cl_time(seen.ended_at) if status == lc.completed else None,
        "interrupted_at": cl_time(seen.ended_at) if status == lc.interrupted else None,
        "processed_count": seen.processed,
        "inputs_size": job.plan.total,
        "records_count": job.plan.total,
        "progress": None if status in lc.waiting else seen.progress,
        "estimated_completion_at": cl_time(seen.estimated_completion_at),
        "errors_count": 0,
        "warnings_count": 0,
        "created_at": cl_time(job.created_at),
        "updated_at": cl_time(max(job.updated_at, seen.updated_at)),
    }
    extras = app[HOOKS].extras(tenant, job, seen, now)
    if extras:
        computed.update(extras)
    # Built in C where possible (this runs 25× per list page): every attribute null, then the
    # user's fields, then the computed values; only names the spec declares are kept.
    names = rt.attributes
    out: dict[str, Any] = dict.fromkeys(names)
    for name, value in dict.items(job.fields):  # raw: a Packed value is spliced, not decoded
        if name in out:
            out[name] = value
    for name, value in computed.items():
        if name in out:
            out[name] = value
    for name in rt.object_attributes:
        if out.get(name, _ABSENT) is None:
            out[name] = {}  # notes: schemathesis_and_clients.md §B6 — logs and metadata never null
    return out


_ABSENT = object()


def _counts(app: web.Application, job: Job, seen: View) -> tuple[int, int]:
    run = job.run  # exports have none: they fail whole, never per item
    return (seen.processed, 0) if run is None else (run.ok, run.errors)


@shows(*KIND_BY_OP.values(), counts=_counts)
def api_view(request: web.Request, tenant: Tenant, job: Job, now: float) -> dict[str, Any]:
    """A job's attributes as GET returns them and its events as /events names them."""
    rt = request.app[TYPES][job.kind]
    seen = jobs.view(rt.lifecycle, job, now)
    return {"attributes": attributes(request.app, rt, tenant, job, now, seen),
            "events": [{"name": EVENT_NAMES.get(status, status), "status": status,
                        "at": cl_time(at)} for status, at in seen.transitions]}


def render(request: web.Request, call: Call, rt: ResourceType, tenant: Tenant, job: Job,
           wanted: frozenset[str] | None = None, seen: View | None = None) -> dict[str, Any]:
    """A job as a JSON:API resource object."""
    p: Principal = call.principal
    return resource(
        base_url(request, request.app[SETTINGS].public_url),
        rt.name,
        job.id,
        sparse(attributes(request.app, rt, tenant, job, call.now, seen), wanted),
        rt.relationships,
        {"mode": p.mode, "organization_id": p.org_id},
        editable=bool(call.query.get("include")),  # include adds relationship data to it
    )


class JobListing(Listing):
    """One job type of an organization as list_response pages it. Each ended job's resource
    object comes from the render cache (dashboards list the same page again and again), except
    when the page embeds includes (they edit it)."""

    def __init__(self, request: web.Request, call: Call, rt: ResourceType, tenant: Tenant) -> None:
        self.request, self.call, self.type, self.tenant = request, call, rt, tenant
        self.rtype, self.filterable, self.sortable = rt.name, rt.filterable, rt.sortable
        self.relationships, self.known_fields = rt.relationships, rt.attributes
        self.creation_sorted = tenant.in_creation_order(rt.name)
        app = request.app
        self.cache, self.store = app[RENDERS], app[STORE]
        self.reuse = not any(name == "include" for name, _ in call.raw_query)
        self.kept = self.cache.reader(tenant, call.now)
        p: Principal = call.principal
        # one string for the whole page (hashed once), then the job and the fields per item
        self.key = "\x1f".join((*tenant.key, rt.name, base_url(request, app[SETTINGS].public_url),
                                p.mode, p.org_id))

    def count(self) -> int:
        return self.tenant.count(self.rtype)

    def page(self, start: int, size: int, newest_first: bool) -> list[Any]:
        return self.tenant.page(self.rtype, start, size, newest_first)

    def scan(self) -> Iterable[Any]:
        return self.tenant.scan(self.rtype)

    def attributes(self, item: Any) -> Mapping[str, Any]:
        return {"id": item.id, **attributes(self.request.app, self.type, self.tenant, item,
                                            self.call.now)}

    def render(self, item: Any, wanted: frozenset[str] | None) -> Any:
        job, now = item, self.call.now
        if not self.reuse:
            return render(self.request, self.call, self.type, self.tenant, job, wanted)
        key = ("item", self.key, job.id, wanted)
        kept = self.kept(key, job)  # (the page's jobs are the tenant's own)
        if kept is not None:
            return kept
        seen = jobs.view(self.type.lifecycle, job, now)
        obj = render(self.request, self.call, self.type, self.tenant, job, wanted, seen)
        stamp = Stamp.of(self.store, self.tenant, job, seen, now)
        if stamp is None:
            return obj
        kept = fragment(dumps_kept(obj))  # kept encoded: spliced into every page showing it
        self.cache.put(key, stamp, kept)
        return kept

    def related(self, item: Any, name: str) -> list[dict[str, Any]]:
        return related_items(self.request, self.call, self.type, item, name)


def _job(tenant: Tenant, rt: ResourceType, job_id: str) -> Job:
    job = tenant.get(rt.name, job_id)
    if job is None:
        raise NotFound(f"The requested {rt.name[:-1]} {job_id!r} was not found.")
    return job


def _id_param(call: Call) -> str:
    return next(iter(call.path.values()))


@handles("listImports", "listExports", "listCleanups")
async def list_jobs(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/{jobs}: filtered, sorted, paged."""
    rt = request.app[TYPES][_kind(call)]
    return list_response(request, call, JobListing(request, call, rt, cl_tenant(request, call)))


@handles("getImport", "getExport", "getCleanup")
async def get_job(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/{jobs}/{id}."""
    rt = request.app[TYPES][_kind(call)]
    tenant = cl_tenant(request, call)
    job = _job(tenant, rt, _id_param(call))
    seen = jobs.view(rt.lifecycle, job, call.now)
    resp = single_response(
        request, call, rt.name, rt.relationships, job,
        lambda j, wanted: render(request, call, rt, tenant, j, wanted, seen),
        lambda j, name: related_items(request, call, rt, j, name),
        known_fields=rt.attributes,
    )
    fast_path.offer(request, Stamp.of(request.app[STORE], tenant, job, seen, call.now),
                    call.op.operation_id, call.op.security, call.namespace)
    return resp


@handles("createImport", "createExport", "createCleanup")
async def create_job(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /api/{jobs}: 201 with the full object, status pending."""
    app = request.app
    rt = app[TYPES][_kind(call)]
    tenant = cl_tenant(request, call)
    attrs = dict(call.body["data"].get("attributes") or {})
    fields = {k: attrs[k] for k in rt.creatable if k in attrs}
    settings = app[SETTINGS]
    hooks = app[HOOKS]
    with tenant.lock:  # sized and created at one instant of the records
        size = hooks.sizers[rt.name](tenant, rt.name, fields)
        jobs.check_size(rt.name, size, settings.max_job_size if settings.limits else None)
        job = jobs.launch(tenant, rt.name, rt.lifecycle, settings, call.now, fields, size,
                          hooks.on_create, {"headers": dict(request.headers), "attributes": attrs},
                          limit=settings.max_active_jobs if settings.limits else None)
    return respond({"data": render(request, call, rt, tenant, job)}, status=201)


@handles("updateImport", "updateExport", "updateCleanup")
async def update_job(request: web.Request, call: Call) -> web.StreamResponse:
    """PATCH /api/{jobs}/{id}: reference fields, metadata and the triggers."""
    app = request.app
    rt = app[TYPES][_kind(call)]
    tenant = cl_tenant(request, call)
    job_id = _id_param(call)
    data = call.body["data"]
    if data.get("id") != job_id:
        # notes: commercelayer_api.md §3 "Update body"
        raise BadRequest(
            f"The id in the body ({data.get('id')!r}) does not match the URL ({job_id!r}).",
            code="KEY_NOT_INCLUDED_IN_URL", title="Key is not included in URL", pointer="/data/id",
        )
    job = _job(tenant, rt, job_id)
    attrs = data.get("attributes") or {}
    if attrs.get("_interrupt") and attrs.get("_start"):
        raise Unprocessable("Send either _interrupt or _start, not both.",
                            pointer="/data/attributes/_start", meta={"error": "invalid"})
    with tenant.lock:
        if attrs.get("_interrupt"):
            jobs.interrupt(tenant, rt.lifecycle, job, call.now)
        if attrs.get("_start"):
            jobs.restart(tenant, rt.lifecycle, job, app[SETTINGS], call.now)
        changed = {k: attrs[k] for k in rt.updatable if k in attrs and job.fields.get(k) != attrs[k]}
        if changed:
            jobs.change(tenant, job, call.now, fields=changed, touch=False)
    return respond({"data": render(request, call, rt, tenant, job)})


@handles("deleteImport", "deleteExport", "deleteCleanup")
async def delete_job(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /api/{jobs}/{id}: 204; a running job must be interrupted first."""
    rt = request.app[TYPES][_kind(call)]
    tenant = cl_tenant(request, call)
    with tenant.lock:
        jobs.delete(tenant, rt.lifecycle, _job(tenant, rt, _id_param(call)), call.now)
    return web.Response(status=204)


@handles(
    "listImportEvents", "listImportEventStores",
    "listExportEvents", "listExportVersions", "listExportEventStores",
    "listCleanupEvents", "listCleanupVersions", "listCleanupEventStores",
)
async def list_related(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/{jobs}/{id}/{events|versions|event_stores}."""
    rt = request.app[TYPES][_kind(call)]
    tenant = cl_tenant(request, call)
    job = _job(tenant, rt, _id_param(call))
    name = call.op.path.rsplit("/", 1)[-1]
    items = related_items(request, call, rt, job, name)
    return related_response(request, call, name, items)
