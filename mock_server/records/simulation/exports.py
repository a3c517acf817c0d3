"""Exports: records_count and the file are taken from the records as they are at creation."""

from __future__ import annotations

from typing import Any

from ...domain.errors import Unprocessable
from ...domain.lifecycle import LIFECYCLES, View
from ...domain.results import ExportFile
from ...domain.store import Job, Tenant
from .. import build_export, check_paths, resolver
from .files import FileRef
from .org import Backend, OrgRecords
from .selection import matching, record_type

FORMATS = ("json", "csv")


def size(backend: Backend, tenant: Tenant, kind: str, attrs: dict[str, Any]) -> int:
    """records_count, computed at creation (notes: commercelayer_api.md §1.3)."""
    rtype = record_type(backend.catalog, attrs.get("resource_type"), "exportable")
    return len(matching(tenant.records, rtype, attrs.get("filters")))


def _paths(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise Unprocessable(f"{name} - must be a list of paths", pointer=f"/data/attributes/{name}",
                            meta={"error": "invalid"})
    return value


def start(backend: Backend, records: OrgRecords, job: Job) -> None:
    """Check format, fields and includes, then build the file from the records as they are now.

    Built at creation, related records included: later imports and cleanups never change what
    an export contains (notes: commercelayer_api.md §1.3 records_count "computed at creation").
    """
    rtype = backend.catalog[str(job.fields["resource_type"])]
    fmt = job.fields.get("format") or "json"
    if fmt not in FORMATS:
        raise Unprocessable(f"format - {fmt!r} is not one of json, csv",
                            title="is not included in the list", pointer="/data/attributes/format",
                            meta={"error": "inclusion", "value": fmt})
    fields = _paths(job.fields.get("fields"), "fields")
    includes = _paths(job.fields.get("includes"), "includes")
    for name, given in (("fields", fields), ("includes", includes)):
        problems = check_paths(backend.catalog, rtype, **{name: given})
        if problems:
            raise Unprocessable(f"{name} - {problems[0]}", title="is invalid",
                                pointer=f"/data/attributes/{name}", meta={"error": "invalid"})
    rows = matching(records, rtype, job.fields.get("filters"))
    try:
        data = build_export(rows, rtype, fmt, fields, includes,
                            dry_data=bool(job.fields.get("dry_data")),
                            related=resolver(records, backend.catalog, rtype))
    except ValueError as exc:
        raise Unprocessable(f"includes - {exc}", pointer="/data/attributes/includes",
                            meta={"error": "invalid"}) from None
    job.file = ExportFile(data, fmt)  # at creation: published with the job


def show(backend: Backend, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
    """attachment_url once completed: a fresh link valid 5 virtual minutes on every read."""
    found = job.file
    if found is None or seen.status != LIFECYCLES["exports"].completed:
        return {}
    # notes: commercelayer_api.md §2.2 — gzip, pre-signed, 5 minutes, refreshed on each fetch
    return {"attachment_url": backend.signer.url(FileRef.of(tenant.key, "exports", job.id),
                                                 found.format, now)}
