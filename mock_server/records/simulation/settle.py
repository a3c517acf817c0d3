"""Job effects on the records, applied in time order before a request reads the organization.

Nothing runs in the background. An import's item n is processed at the instant its plan says
(Plan.item_instant), a cleanup's likewise; before every request the effects of every running job
of the tenant that are due by `now` are applied, merged across jobs by instant (ties: creation
order). The instants depend only on the plans, so settling once after an hour gives the same
records as settling every second of that hour.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from ...domain import jobs, lifecycle
from ...domain.lifecycle import LIFECYCLES
from ...domain.results import Run
from ...domain.store import Fields, Job, Tenant
from ...scenarios import fate
from ...scenarios.attach import scenario_of
from . import cleanups, imports
from .org import Backend, OrgRecords, next_item, org_records

# (…, the error a QA scenario gives this item, if any) → None
Step = Callable[[Backend, OrgRecords, Job, Run, float, "dict[str, list[str]] | None"], None]
STEPS: dict[str, Step] = {"imports": imports.apply_item, "cleanups": cleanups.apply_item}


def _apply(backend: Backend, tenant: Tenant, records: OrgRecords, job: Job, at: float) -> None:
    run = job.run
    assert run is not None  # only jobs with a Run are in records.running
    errors = run.errors
    failed = fate.item_error(job.kind, scenario_of(job).error_rate, run.applied + 1)
    STEPS[job.kind](backend, records, job, run, at, failed)
    plan = None
    # notes: commercelayer_api.md §2.1, §2.4 — errors over 10% of the batch interrupt the job
    # (imports unless skip_errors; cleanups always)
    if run.errors > errors and not run.skip_errors \
            and run.errors > fate.AUTO_INTERRUPT_SHARE * run.total:
        plan = lifecycle.interrupt(job.plan, at)  # the item just handled counts (items_at)
    jobs.change(tenant, job, at, plan=plan, touch=False)  # its counts moved on


def settle(backend: Backend, tenant: Tenant, now: float) -> None:
    """Hooks.settle: apply every item effect due by `now`, in time order across the jobs."""
    records = org_records(tenant)
    if records is None or not records.queue or records.queue[0][0] > now:
        return  # the common case: nothing due, one comparison
    queue = records.queue
    with tenant.lock:
        while queue and queue[0][0] <= now:
            at, job_id = heapq.heappop(queue)
            if records.due.get(job_id) != at:
                continue  # stale: the job was rescheduled or has ended
            job = records.running[job_id]
            if tenant.get(job.kind, job.id) is not job:  # removed (a create that failed later)
                records.untrack(job_id)
                continue
            nxt = next_item(job)
            if nxt is not None and nxt != at:  # first look, or the plan changed: re-queue
                records.schedule(job_id, nxt)
                continue
            if nxt is not None:
                _apply(backend, tenant, records, job, at)
                nxt = next_item(job)
                if nxt is not None:
                    records.schedule(job_id, nxt)
                    continue
            end = job.plan.ending()  # no item left: the job is over once its plan ends
            if end is None:
                del records.due[job_id]  # stalled: a release wakes it (OrgRecords.wake)
            elif end[0] > now:
                records.schedule(job_id, end[0])
            else:
                _finish(job, records, now)


def _finish(job: Job, records: OrgRecords, now: float) -> None:
    lc = LIFECYCLES[job.kind]
    if lifecycle.status_at(lc, job.plan, now) not in lc.terminal:  # never expected: look again
        records.schedule(job.id, now + 1.0)
        return
    run = job.run
    if run is not None:
        run.items = None
    if isinstance(job.fields, Fields):
        job.fields.deflate()  # an ended import's inputs are read again only to be shown
    records.untrack(job.id)
