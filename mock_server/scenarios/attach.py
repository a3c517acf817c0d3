"""Scenarios on jobs: attached at creation (config rules, metadata, the X-Mock-Scenario header)
or later by the QA controls, and what a scenario shows on a job (the scenarios part of hooks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..domain import jobs
from ..domain.errors import BadRequest, Conflict, Unprocessable
from ..domain.lifecycle import LIFECYCLES, View
from . import fate
from .book import ScenarioBook
from .scenario import (
    HEADER,
    METADATA_KEY,
    NO_SCENARIO,
    Scenario,
    ScenarioError,
    TooLate,
    header_value,
    parse,
)

if TYPE_CHECKING:
    from ..domain.store import Job, Tenant
    from ..hooks import OnCreate


def scenario_error(exc: ScenarioError, where: str, pointer: str, rackspace: bool = False,
                   parameter: str | None = None) -> Exception:
    """The answer to a scenario that cannot apply: 409 when it comes too late, else the API's
    validation error pointing at the field (`pointer`) or header (`parameter`) it came from."""
    if isinstance(exc, TooLate):
        return Conflict(f"{where}: {exc}")
    if rackspace:  # notes: rackspace_cleanups.md §8 — bad input is a 400 "Validation failed."
        return BadRequest("Validation failed.", errors=[f"{where}: {exc}"])
    if parameter is not None:
        return Unprocessable(f"{where}: {exc}", parameter=parameter, meta={"error": "invalid"})
    key = (exc.key or "").replace(".", "/")
    return Unprocessable(f"{where}: {exc}", pointer=f"{pointer}/{key}" if key else pointer,
                         meta={"error": "invalid"})


def attach(tenant: Tenant, job: Job, scenario: Any, now: float,
           presets: Mapping[str, Scenario] | None = None) -> Scenario:
    """Put a scenario on a stored job (the caller holds the tenant lock); returns the merged one."""
    sc = parse(scenario, presets)
    skip = bool(job.fields.get("skip_errors"))
    plan = fate.apply(sc, job.plan, LIFECYCLES[job.kind], job.kind, now, skip)
    merged = scenario_of(job).merged(sc)
    jobs.change(tenant, job, now, plan=plan, scenario=merged, touch=False)
    return merged


def scenario_of(job: Job) -> Scenario:
    """The scenario attached to a job (empty when none)."""
    return job.scenario if job.scenario is not None else NO_SCENARIO


def scenario_hook(book: ScenarioBook) -> OnCreate:
    """Hooks.on_create: config rules, then metadata.mock_scenario, then X-Mock-Scenario."""

    def on_create(tenant: Tenant, job: Job, context: dict[str, Any]) -> None:
        attrs = context.get("attributes") or {}
        rackspace = job.kind == "rackspace_cleanups"
        sc, sources = book.for_job(job.kind, attrs, tenant.key[0]), ["config rules"]
        meta = attrs.get("metadata")
        if isinstance(meta, Mapping) and METADATA_KEY in meta:
            try:
                sc = sc.merged(parse(meta[METADATA_KEY], book.presets))
            except ScenarioError as exc:
                raise scenario_error(exc, f"metadata.{METADATA_KEY}",
                                      f"/data/attributes/metadata/{METADATA_KEY}") from None
            sources.append(f"metadata.{METADATA_KEY}")
        text = header_value(context.get("headers") or {})
        if text:
            try:
                sc = sc.merged(parse(text, book.presets))
            except ScenarioError as exc:
                raise scenario_error(exc, HEADER, "", rackspace) if rackspace else BadRequest(
                    f"{HEADER}: {exc}", parameter=HEADER) from None
            sources.append(HEADER)
        if sc.empty:
            return
        try:
            attach(tenant, job, sc, job.created_at)
        except ScenarioError as exc:
            raise scenario_error(exc, f"mock scenario ({', '.join(sources)})",
                                  f"/data/attributes/metadata/{METADATA_KEY}"
                                  if len(sources) > 1 else "/data/attributes", rackspace,
                                  parameter=HEADER if text else None) from None

    return on_create


# ---- what a scenario shows on the job (Hooks.enrich) -----------------------------------------

def enrich(tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
    """Hooks.enrich: the errors_log a forced export failure shows. (A scenario's error_rate is
    applied item by item by the records simulation, with each item's own errors: it is not
    worded here, where it would replace them.)"""
    lc = LIFECYCLES.get(job.kind)
    if lc is None or job.kind != "exports" or seen.status != lc.failed:
        return {}
    # notes: commercelayer_api.md §2.6 — exports log {ExceptionClass: message}
    return {"errors_log": {"RuntimeError": scenario_of(job).fail_message or "query timeout"}}
