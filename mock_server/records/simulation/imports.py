"""Imports: inputs (JSON objects or one CSV string) upserted item by item as virtual time passes."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from typing import Any

from ...domain.errors import Unprocessable
from ...domain.lifecycle import View
from ...domain.results import Run
from ...domain.store import Job, Packed, Tenant
from ...jsonenc import dumps, loads_own
from ...timefmt import cl_instant
from .. import DuplicateKey, RecordType, apply_parent, item_key, parse_csv, validate_item
from ..validate import INVALID, TAKEN
from .files import FileRef
from .org import Backend, OrgRecords
from .selection import record_type

FORMATS = ("json", "csv")


def inputs_of(rtype: RecordType, attrs: Mapping[str, Any]) -> list[Any]:
    """The import's items; 422 for a format mismatch or malformed CSV, as the API refuses them."""
    fmt = attrs.get("format") or "json"
    if fmt not in FORMATS:
        raise Unprocessable(f"format - {fmt!r} is not one of json, csv", title="is not included "
                            "in the list", pointer="/data/attributes/format",
                            meta={"error": "inclusion", "value": fmt})
    inputs = attrs.get("inputs")
    if isinstance(inputs, str):
        if fmt != "csv":
            # notes: commercelayer_api.md §2.3 — without format csv the API assumes JSON and errs
            raise Unprocessable("inputs - is a CSV string, but format is json: send format: csv "
                                "with CSV inputs", title="is invalid",
                                pointer="/data/attributes/inputs", meta={"error": "invalid"})
        try:
            return parse_csv(inputs, rtype)
        except ValueError as exc:
            raise Unprocessable(f"inputs - {exc}", title="is invalid",
                                pointer="/data/attributes/inputs", meta={"error": "invalid"}) from None
    if fmt == "csv":
        raise Unprocessable("inputs - must be one CSV string (a header line, then rows) when "
                            "format is csv", title="is invalid",
                            pointer="/data/attributes/inputs", meta={"error": "invalid"})
    return list(inputs or [])


def size(backend: Backend, tenant: Tenant, kind: str, attrs: dict[str, Any]) -> int:
    """inputs_size: the number of items (CSV rows after the header)."""
    rtype = record_type(backend.catalog, attrs.get("resource_type"), "importable")
    return len(inputs_of(rtype, attrs))  # also refuses a format mismatch before the job exists


def start(backend: Backend, records: OrgRecords, job: Job) -> None:
    """Track the new import's item effects from now on."""
    parent = job.fields.get("parent_resource_id")
    job.run = Run(
        resource_type=str(job.fields["resource_type"]), total=job.plan.total,
        skip_errors=bool(job.fields.get("skip_errors")),
        parent_id=parent if isinstance(parent, str) and parent else None)
    records.track(job)


def apply_item(backend: Backend, records: OrgRecords, job: Job, run: Run, at: float,
               scenario_error: dict[str, list[str]] | None) -> None:
    """Upsert the next input item at `at`, or log why it cannot be (errors_log, §2.6)."""
    rtype = backend.catalog[run.resource_type]
    # The inputs are decoded once while the import runs, and each row is let go once applied:
    # a stream of imports in flight holds only the rows still to come. (Decoded again only
    # for a row that is gone: a copy of the job back at an earlier version, or a null row.)
    index = run.applied
    items = run.items
    if items is None or items[index] is None:
        run.items = items = inputs_of(rtype, job.fields)
    item = items[index]
    items[index] = None
    run.applied += 1
    key = item_key(rtype, item, index)  # the identifier (code, email, …), else the index
    if scenario_error is not None:  # a QA scenario's error_rate fails this item
        run.log(key, scenario_error)
        return
    mapping = isinstance(item, Mapping)  # else a row validate_item refuses
    if run.parent_id and mapping:
        item = apply_parent(rtype, item, run.parent_id)
    existing = records.lookup(rtype.name, item) if mapping else None
    errors = validate_item(rtype, item, records, existing=existing)
    if errors is None and mapping and isinstance(item.get("id"), str) \
            and records.get(rtype.name, item["id"]) is None:
        # inferred: ids are the API's own, so an id that names no record is not a way to create
        errors = {"id": [INVALID]}
    if errors is None:
        try:
            records.upsert(rtype.name, item, cl_instant(at), existing)
        except DuplicateKey:
            errors = {rtype.unique_key[0]: [TAKEN]}
        else:
            run.ok += 1
            return
    run.log(key, errors)


def inputs_file(job: Job) -> tuple[bytes, str]:
    """A gzipped copy of the inputs as sent (the JSON array, or the CSV text) and its format."""
    raw = dict.get(job.fields, "inputs")
    if isinstance(raw, Packed):
        text = raw.raw  # (inflated once: an ended import keeps it deflated)
        if text[:1] != b'"':  # a JSON array, as sent
            return gzip.compress(text, mtime=0), "json"
        raw = loads_own(text)  # a CSV text, packed as a JSON string
    if isinstance(raw, str):
        return gzip.compress(raw.encode(), mtime=0), "csv"
    return gzip.compress(bytes(dumps(raw)), mtime=0), "json"


def show(backend: Backend, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
    """Counts and logs from the applied items; attachment_url once the import has started."""
    out: dict[str, Any] = {}
    run = job.run
    if run is not None:
        out.update(processed_count=run.ok, errors_count=run.errors, errors_log=run.errors_log or {})
    if seen.started_at is not None:
        # notes: commercelayer_api.md §2.2 — the inputs are gzipped and uploaded at start
        fmt = "csv" if job.fields.get("format") == "csv" else "json"
        out["attachment_url"] = backend.signer.url(FileRef.of(tenant.key, "imports", job.id),
                                                   fmt, now)
    return out
