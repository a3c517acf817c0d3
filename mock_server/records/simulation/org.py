"""What the records backend keeps: an organization's records, running effects and its settings."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .. import Catalog, RecordStore

if TYPE_CHECKING:
    from ...domain.clock import VirtualClock
    from ...domain.lifecycle import Plan
    from ...domain.model import ResourceType
    from ...domain.store import Job, Tenant
    from ...settings import Settings
    from .files import Signer

# Salt of generated and new record ids: the same in every organization, so a fixture gives
# every organization (and every namespace) the same records and ids for a given --seed.
ORG_SALT = "org"


@lru_cache(maxsize=1)
def packaged_catalog() -> Catalog:
    """The record catalog shipped in the package (read once per process; never mutated)."""
    return Catalog.load()


class OrgRecords(RecordStore):
    """A tenant's records plus the imports and cleanups whose item effects are still due.

    `queue` is a heap of (instant, job id): when each running job next needs a look (its next
    item, or the end of its plan); ties go to the older job, as a tenant's ids sort in creation
    order. `due` holds each job's one valid instant; an entry whose instant differs is stale and
    skipped, so a request settles in O(log n) per due item instead of scanning every running job.
    """

    __slots__ = ("running", "queue", "due")

    def __init__(self, catalog: Catalog, *, seed: int = 0, tenant: str = ORG_SALT) -> None:
        super().__init__(catalog, seed=seed, tenant=tenant)
        self.running: dict[str, Job] = {}  # job id (unique in a tenant) → job
        self.queue: list[tuple[float, str]] = []
        self.due: dict[str, float] = {}

    def track(self, job: Job) -> None:
        """Start applying a new job's item effects (looked at on the next settle)."""
        self.running[job.id] = job
        self.schedule(job.id, -math.inf)

    def follow(self, job: Job) -> None:
        """Go on applying the item effects of a running job read back from storage (or from
        another replica), from the instant it next needs a look: its next item, else its end."""
        self.running[job.id] = job
        at = next_item(job)
        if at is None:
            ending = job.plan.ending()
            at = None if ending is None else ending[0]
        if at is None:
            self.due.pop(job.id, None)  # stalled: a release wakes it
        else:
            self.schedule(job.id, at)

    def due_by(self, now: float) -> bool:
        """True when some job effect is due by `now`."""
        return bool(self.queue) and self.queue[0][0] <= now

    def tracks(self, job: Job) -> bool:
        """True while the job's item effects still run."""
        return job.id in self.running

    def wake(self, job: Job) -> None:
        """The job's plan changed (a scenario, a release, an advance): look at it again."""
        if job.id in self.running:
            self.schedule(job.id, -math.inf)

    def schedule(self, job_id: str, at: float) -> None:
        """Look at a running job again at `at` (replaces its earlier instant)."""
        self.due[job_id] = at
        heapq.heappush(self.queue, (at, job_id))

    def untrack(self, job_id: str) -> None:
        """Forget a job whose effects are over (or which is gone)."""
        self.running.pop(job_id, None)
        self.due.pop(job_id, None)
        if not self.running:  # dicts keep their peak size: start small again once idle
            self.running, self.due = {}, {}


def item_instant(plan: Plan, n: int) -> float | None:
    """When item `n` (1-based) is processed under `plan`, or None if the plan stops before it.
    An item at the very instant of an interrupt is processed, as `Plan.items_at` counts it."""
    if n > plan.total:
        return None
    at = plan.item_instant(n)
    for stop in (plan.interrupt_at, plan.fail_at, plan.stall_at):
        if stop is not None and at > stop:
            return None
    return at


def next_item(job: Job) -> float | None:
    """When the job's next item is processed (None: no more items under its plan)."""
    run = job.run
    return None if run is None else item_instant(job.plan, run.applied + 1)


def org_records(tenant: Tenant) -> OrgRecords | None:
    """The tenant's records when the backend set them up (Commerce Layer tenants only)."""
    records = tenant.records
    return records if isinstance(records, OrgRecords) else None


@dataclass(frozen=True, slots=True)
class Backend:
    """Everything the hooks need, bound once at start-up."""

    catalog: Catalog
    settings: Settings
    clock: VirtualClock
    types: dict[str, ResourceType]
    signer: Signer


