"""Cleanups: the records `filters` matched at creation, deleted one by one as virtual time passes."""

from __future__ import annotations

from typing import Any

from ...domain.lifecycle import View
from ...domain.results import Run
from ...domain.store import Job, Tenant
from .. import Catalog, RecordType, item_key
from .org import Backend, OrgRecords
from .selection import matching, record_type


def size(backend: Backend, tenant: Tenant, kind: str, attrs: dict[str, Any]) -> int:
    """records_count: the records the filters match now (notes: commercelayer_api.md §1.4)."""
    rtype = record_type(backend.catalog, attrs.get("resource_type"), "cleanable")
    return len(matching(tenant.records, rtype, attrs.get("filters")))


def start(backend: Backend, records: OrgRecords, job: Job) -> None:
    """Fix the records to delete (in id order) and track their deletion from now on."""
    rtype = backend.catalog[str(job.fields["resource_type"])]
    ids = [r["id"] for r in matching(records, rtype, job.fields.get("filters"))]
    job.run = Run(resource_type=rtype.name, total=len(ids), ids=ids)
    records.track(job)


def blockers(catalog: Catalog, records: OrgRecords, rtype: RecordType, rid: str) -> list[str]:
    """Types whose records point at `rid` by id and are not deleted with it.

    inferred: like Rails' `dependent: :restrict_with_error`, a record another one references
    by id (a bundle's sku_list_id, a line item option's sku_option_id) cannot be deleted while
    that one exists; the cascades (§1.4 "skus → prices, stock items") go with the record. A
    reference by code (a line item's sku_code) is a copied value, not a key, and blocks nothing.
    """
    found: list[str] = []
    for child in catalog:
        if child.name in rtype.cascades:
            continue
        for rel, (attr, target_attr) in child.foreign_keys.items():
            if child.relationships[rel] == rtype.name and target_attr == "id" \
                    and records.find(child.name, attr, rid) is not None:
                found.append(child.name.replace("_", " "))
                break
    return found


def apply_item(backend: Backend, records: OrgRecords, job: Job, run: Run, at: float,
               scenario_error: dict[str, list[str]] | None) -> None:
    """Delete the next record (and its cascades) at `at`, or log why it cannot be deleted."""
    rtype = backend.catalog[run.resource_type]
    index = run.applied
    rid = (run.ids or [])[index]
    run.applied += 1
    record = records.get(rtype.name, rid)
    key = item_key(rtype, record or {"id": rid}, index)
    if scenario_error is not None:  # a QA scenario's error_rate fails this item
        run.log(key, scenario_error)
        return
    if record is None:  # deleted meanwhile (another cleanup, a cascade): nothing left to do
        run.ok += 1
        return
    blocking = blockers(backend.catalog, records, rtype, rid)
    if blocking:
        # Rails' restrict_with_error message, under `base` as ActiveModel puts it
        run.log(key, {"base": [f"Cannot delete record because dependent {', '.join(blocking)} "
                               "exist"]})
        return
    records.delete(rtype.name, rid)
    run.ok += 1


def show(backend: Backend, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
    """processed_count (records removed), errors_count and errors_log from the applied items."""
    run = job.run
    if run is None:
        return {}
    return {"processed_count": run.ok, "errors_count": run.errors, "errors_log": run.errors_log or {}}
