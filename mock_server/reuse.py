"""When a rendered job may be shown again as it is: what an ended job's rendering is made of.

A job that has ended renders the same at every later instant, except for its download link,
which is signed once per virtual second (`backend.files.link_window`). So a rendering can be
kept while the job stays what it was: still stored in the same tenant (no reset, no delete),
with the same plan, results and scenario objects (every change replaces them) and the same
number of versions of its user fields (every change to them records one), read in the same
link window and not before the job ended (as `jobs.view` checks: a namespace whose own clock
was dropped goes back to the server's). `hot_reads` keeps whole answers this way, and the job
lists keep each job's resource object (`Tenant.rendered`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .domain.store import Job, Tenant
from .records.simulation.files import link_window

MAX_RENDERED = 1024  # resource objects kept per tenant, oldest dropped first (~1.5 KB each)


@dataclass(frozen=True, slots=True)
class Ended:
    """What an ended job's rendering at some instant was made of."""

    tenant: Tenant
    job: Job
    plan: Any
    extra: Any
    run: Any
    versions: int
    ended_at: float
    window: int

    @classmethod
    def of(cls, tenant: Tenant, job: Job, now: float) -> Ended | None:
        """The stamp of `job` as rendered at `now`; None while it is pending or running."""
        final = job.final
        if final is None or final[0] is not job.plan:
            return None  # not ended (or ended under an earlier plan): it changes with time
        return cls(tenant, job, job.plan, job.extra, job.run, len(job.changes or ()),
                   final[1].updated_at, link_window(now))

    def holds(self, now: float, tenant: Tenant | None) -> bool:
        """True while the job, its tenant (`tenant`: the store's under that key now) and the
        time still give the rendering this stamp was taken with."""
        job = self.job
        return (tenant is self.tenant and self.tenant.get(job.kind, job.id) is job
                and job.plan is self.plan and job.extra is self.extra and job.run is self.run
                and len(job.changes or ()) == self.versions
                and link_window(now) == self.window and now >= self.ended_at)


def kept(tenant: Tenant, key: tuple[Any, ...], now: float) -> bytes | None:
    """A job's resource object rendered earlier under `key`, if it still holds."""
    found = tenant.rendered.get(key) if tenant.rendered is not None else None
    if found is None:
        return None
    stamp, body = found
    if stamp.holds(now, tenant):
        return body  # type: ignore[no-any-return]
    del tenant.rendered[key]  # type: ignore[union-attr]
    return None


def keep(tenant: Tenant, key: tuple[Any, ...], stamp: Ended, body: bytes) -> None:
    """Keep a job's rendered resource object under `key` (the oldest goes when full)."""
    if tenant.rendered is None:
        tenant.rendered = {}
    elif len(tenant.rendered) >= MAX_RENDERED:
        del tenant.rendered[next(iter(tenant.rendered))]
    tenant.rendered[key] = (stamp, body)
