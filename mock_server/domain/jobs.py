"""Job operations shared by both vendors: launch (create) with a plan, view, interrupt, restart, delete.

The only code that changes a stored job: every change goes through `change` (or `delete`), which
bumps the job's version and publishes a JobChanged on the store's feed (changes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..settings import Settings, Timing
from . import lifecycle
from .changes import JobChanged
from .errors import Unprocessable
from .lifecycle import Lifecycle, Plan, View
from .store import Fields, Job, Tenant

if TYPE_CHECKING:
    from ..hooks import OnCreate
    from ..scenarios.scenario import Scenario


@lru_cache(maxsize=1024)
def _durations(timing: Timing, stages: int, total: int) -> tuple[float, ...]:
    """Stage durations of a job size (computed once per size)."""
    return timing.durations(stages, total)


def new_plan(lc: Lifecycle, settings: Settings, kind: str, now: float, total: int) -> Plan:
    """A default plan: realistic but short stage durations that grow with the job's size."""
    timing = settings.timings[kind]
    return Plan.timed(now, _durations(timing, len(lc.stages), total), total=total,
                      stop_for=timing.stopping)


def view(lc: Lifecycle, job: Job, now: float) -> View:
    """The job at `now`, with the transitions of earlier (restarted) plans kept in front."""
    seen = lifecycle.view(lc, job.plan, now)
    if job.past:
        seen = replace(seen, transitions=job.past + seen.transitions)
    return seen


def is_active(lc: Lifecycle, job: Job, now: float) -> bool:
    """Pending or running (counts against the concurrency limit, cannot be deleted)."""
    return lifecycle.status_at(lc, job.plan, now) not in lc.terminal


def check_capacity(tenant: Tenant, kind: str, lc: Lifecycle, now: float, limit: int) -> None:
    """422 when the organization already runs `limit` jobs of this type."""
    active = 0
    for job in tenant.scan(kind, newest_first=True):  # old jobs are mostly done
        if is_active(lc, job, now):
            active += 1
            if active >= limit:
                # notes: commercelayer_api.md §2.4, the error is undocumented (inferred: 422)
                raise Unprocessable(
                    f"There are already {limit} {kind} pending or in progress for this "
                    f"organization; wait for one to finish or interrupt it.",
                    pointer="/data/attributes/status",
                    meta={"error": "less_than_or_equal_to", "value": active + 1, "count": limit,
                          "mock_hint": f"The vendor allows {limit} pending or running {kind} "
                                       f"per organization and the mock enforces it; lift it "
                                       f"with --no-limits, or set max_active_jobs."},
                )


def check_size(kind: str, size: int, max_size: int | None) -> None:
    """422 in the vendor's words for a job too big (`max_size`, None: no limit) or an export of
    nothing (notes: commercelayer_api.md §2.4 "Empty job")."""
    field = "inputs" if kind == "imports" else "records_count"
    if max_size is not None and size > max_size:
        raise Unprocessable(
            f"{field} - must be less than or equal to {max_size}",
            title=f"must be less than or equal to {max_size}",
            pointer=f"/data/attributes/{field}",
            meta={"error": "less_than_or_equal_to", "value": size, "count": max_size,
                  "mock_hint": f"The vendor's limit is {max_size:,} per job and the mock "
                               f"enforces it; lift it with --no-limits, or set max_job_size."},
        )
    if kind == "exports" and size <= 0:
        raise Unprocessable(
            "records_count - must be greater than 0",
            title="must be greater than 0",
            pointer="/data/attributes/records_count",
            meta={"error": "greater_than", "value": size, "count": 0},
        )


def launch(
    tenant: Tenant,
    kind: str,
    lc: Lifecycle,
    settings: Settings,
    now: float,
    fields: dict[str, Any],
    total: int,
    on_create: Iterable[OnCreate] = (),
    context: dict[str, Any] | None = None,
    *,
    limit: int | None = None,
    rackspace: bool = False,
    prepare: Callable[[Plan], Plan] | None = None,
) -> Job:
    """A job created as a client's create makes one: under the tenant's lock, the capacity
    checked (`limit` active jobs of the kind, None: no limit), stored, its plan `prepare`d, then
    handed to every creation hook, and published at version 1. Whatever fails, no half-created
    job stays behind."""
    with tenant.lock:
        if limit is not None:
            check_capacity(tenant, kind, lc, now, limit)
        job = tenant.add(Job(id=tenant.new_id(rackspace=rackspace), kind=kind, created_at=now,
                             plan=new_plan(lc, settings, kind, now, total),
                             fields=Fields.packing(fields), updated_at=now))
        try:
            if prepare is not None:
                job.plan = prepare(job.plan)
            for hook in on_create:
                hook(tenant, job, context or {})  # may shape the job: it is not published yet
        except Exception:
            tenant.remove(kind, job.id)
            raise
        job.version = 1
        tenant.feed.publish(JobChanged(tenant.key[0], tenant.key, kind, job.id, 1, now))
    return job


def change(tenant: Tenant, job: Job, now: float, *, plan: Plan | None = None,
           fields: Mapping[str, Any] | None = None, scenario: Scenario | None = None,
           marks: Iterable[str] = (), past: tuple[tuple[str, float], ...] | None = None,
           touch: bool = True) -> None:
    """Change a stored job (the caller holds the tenant lock): its plan, the user's `fields`
    (kept as a version of the job), its `scenario`, `marks` that stay, transitions of a
    replaced plan in `past`; `touch` moves updated_at to `now`. Then a new version, stored and
    published, and whoever schedules its effects told of a new plan. While the job is still
    being created (version 0) nothing is stored or published: the creation is."""
    replanned = plan is not None and plan is not job.plan
    counts_only = not (replanned or past is not None or fields or scenario is not None
                       or marks or touch)  # an item processed: its run's counts moved on
    if past is not None:
        job.past = past
    if plan is not None:
        job.plan = plan
    if fields:
        if job.changes is None:
            job.changes = []
        job.changes.append((now, {k: [job.fields.get(k), v] for k, v in fields.items()}))
        job.fields.update(fields)
        job.updated_at = max(job.updated_at, now)
    if scenario is not None:
        job.scenario = scenario
    if marks:
        job.marks = job.marks.union(marks)
    if touch:
        job.updated_at = now
    if job.version:
        job.version += 1
        tenant.put(job, job.version - 1, counts_only)
        if replanned:
            tenant.replanned(job)
        tenant.feed.publish(JobChanged(tenant.key[0], tenant.key, job.kind, job.id, job.version,
                                       now))


def delete(tenant: Tenant, lc: Lifecycle, job: Job, now: float) -> None:
    """Delete a job that has ended (422 while it runs), and say so."""
    check_deletable(lc, job, now)
    tenant.remove(job.kind, job.id)
    tenant.feed.publish(JobChanged(tenant.key[0], tenant.key, job.kind, job.id, job.version + 1,
                                   now, deleted=True))


def interrupt(tenant: Tenant, lc: Lifecycle, job: Job, now: float) -> None:
    """Interrupt a pending or running job now; 422 when it has already ended."""
    status = lifecycle.status_at(lc, job.plan, now)
    if status in lc.terminal:
        raise Unprocessable(
            f"_interrupt is only allowed while the job is pending or in progress; it is {status}.",
            pointer="/data/attributes/_interrupt",
            meta={"error": "invalid_transition", "value": status},
        )
    if lc.stopping and status == lc.stopping:
        return
    change(tenant, job, now, plan=lifecycle.interrupt(job.plan, now))


def restart(tenant: Tenant, lc: Lifecycle, job: Job, settings: Settings, now: float) -> None:
    """Resume an interrupted job from where it stopped, with a fresh plan from now."""
    seen = view(lc, job, now)
    if seen.status != lc.interrupted:
        raise Unprocessable(
            f"_start is only allowed on an interrupted job; it is {seen.status}.",
            pointer="/data/attributes/_start",
            meta={"error": "invalid_transition", "value": seen.status},
        )
    remaining = max(0, job.plan.total - seen.processed)
    fresh = new_plan(lc, settings, job.kind, now, remaining)
    change(tenant, job, now, past=seen.transitions,
           plan=replace(fresh, total=job.plan.total, done=seen.processed))


def check_deletable(lc: Lifecycle, job: Job, now: float) -> None:
    """422 when deleting a job that still runs (the dashboard interrupts first)."""
    status = lifecycle.status_at(lc, job.plan, now)
    if status not in lc.terminal:
        # notes: commercelayer_api.md §2.1 "Delete while running" (undocumented; inferred 422)
        raise Unprocessable(
            f"The job is {status}: interrupt it (PATCH _interrupt: true) before deleting it.",
            pointer="/data/attributes/status",
            meta={"error": "invalid_transition", "value": status},
        )
