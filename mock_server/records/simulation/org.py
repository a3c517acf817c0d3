"""What the records backend keeps: an organization's records, running effects and its settings."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import Catalog, RecordStore

if TYPE_CHECKING:
    from ...domain.clock import VirtualClock
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


def org_records(tenant: Tenant) -> OrgRecords | None:
    """The tenant's records when the backend set them up (Commerce Layer tenants only)."""
    records = tenant.records
    return records if isinstance(records, OrgRecords) else None


@dataclass(slots=True)
class Run:
    """How far an import's or a cleanup's item effects got (kept in job.run)."""

    resource_type: str
    total: int
    applied: int = 0  # items handled so far, ok or not (the lifecycle's processed count)
    ok: int = 0  # records upserted / deleted (what processed_count shows)
    errors: int = 0
    errors_log: dict[str, Any] | None = None  # made on the first failed item (most have none)
    skip_errors: bool = False  # imports only: never interrupt on errors
    parent_id: str | None = None  # imports: parent_resource_id
    ids: list[str] | None = None  # cleanups: the records to delete, fixed at creation
    items: list[Any] | None = None  # imports: decoded inputs while running, dropped at the end

    def log(self, key: str, errors: dict[str, list[str]]) -> None:
        """Count one failed item and merge its messages under its key (ActiveModel style)."""
        self.errors += 1
        if self.errors_log is None:
            self.errors_log = {}
        entry = self.errors_log.setdefault(key, {})
        for attr, messages in errors.items():
            kept = entry.setdefault(attr, [])
            kept.extend(m for m in messages if m not in kept)


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export's gzipped file, built from the records as they were at creation."""

    data: bytes
    format: str


@dataclass(frozen=True, slots=True)
class Backend:
    """Everything the hooks need, bound once at start-up."""

    catalog: Catalog
    settings: Settings
    clock: VirtualClock
    types: dict[str, ResourceType]
    signer: Signer


def run_of(job: Job) -> Run | None:
    """The item-effects state of an import or cleanup, if the backend started one."""
    found = job.run
    return found if isinstance(found, Run) else None


def file_of(job: Job) -> ExportFile | None:
    """An export's file, if the backend built one."""
    found = (job.extra or {}).get("file")
    return found if isinstance(found, ExportFile) else None


def put_extra(job: Job, key: str, value: Any) -> None:
    """Set one backend value in job.extra, keeping what other hooks (scenarios) put there."""
    job.extra = {**(job.extra or {}), key: value}
