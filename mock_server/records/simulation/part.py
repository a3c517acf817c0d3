"""The backend's Hooks callbacks, dispatched by job type, and job creation outside a request."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ...domain import jobs
from ...domain.lifecycle import View
from ...domain.store import Job, Tenant
from . import cleanups, exports, imports
from .org import Backend, OrgRecords, org_records

Sizer = Callable[[Backend, Tenant, str, dict[str, Any]], int]
Start = Callable[[Backend, OrgRecords, Job], None]
Show = Callable[[Backend, Tenant, Job, View, float], dict[str, Any]]

SIZERS: dict[str, Sizer] = {"imports": imports.size, "exports": exports.size,
                            "cleanups": cleanups.size}
STARTS: dict[str, Start] = {"imports": imports.start, "exports": exports.start,
                            "cleanups": cleanups.start}
SHOWS: dict[str, Show] = {"imports": imports.show, "exports": exports.show,
                          "cleanups": cleanups.show}


def on_create(backend: Backend, tenant: Tenant, job: Job, context: dict[str, Any]) -> None:
    """Hooks.on_create: build an export's file, or start tracking an import's or cleanup's items."""
    records = org_records(tenant)
    start = STARTS.get(job.kind)
    if records is not None and start is not None:
        start(backend, records, job)


def enrich(backend: Backend, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
    """Hooks.enrich: counts, logs and links the records backend knows."""
    show = SHOWS.get(job.kind)
    if show is None or org_records(tenant) is None:
        return {}
    return show(backend, tenant, job, seen, now)


def create_job(backend: Backend, tenant: Tenant, kind: str, attrs: dict[str, Any], at: float
               ) -> Job:
    """A job created at `at` as POST /api/<kind> would (fixtures): sized, checked, started."""
    rt = backend.types[kind]
    fields = {k: attrs[k] for k in rt.creatable if k in attrs}
    size = SIZERS[kind](backend, tenant, kind, fields)
    # The size and concurrency limits guard what clients ask for; a fixture's jobs are
    # history, so a smaller max_job_size never stops the server from starting.
    jobs.check_size(kind, size, None)
    return jobs.launch(tenant, kind, rt.lifecycle, backend.settings, at, fields, size,
                       [partial(on_create, backend)], {"headers": {}, "attributes": attrs})
