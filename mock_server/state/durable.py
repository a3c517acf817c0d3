"""DurableStore: the in-memory Store that notes what changed, so a backend can write it.

Requests keep working on memory (the same objects, the same speed); every job added, put or
removed, every tenant created and every namespace cleared is marked. `collect()` turns the marks
into a `Batch` of stored bytes, taken on the event loop between two requests, so a batch never
holds half of a change. `restore()` fills a fresh store from what a backend loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..domain.store import Job, Store, Tenant, TenantKey
from . import codec
from .codec import Block

JobKey = tuple[TenantKey, str, str]  # (tenant, kind, id)
WIPED = ("*", "")  # in a records store's dirty set: every record was dropped


@dataclass(slots=True)
class Batch:
    """What one transaction writes: the current form of everything marked since the last one."""

    cleared: list[str | None] = field(default_factory=list)  # namespaces (None: all), first
    tenants: list[tuple[TenantKey, int]] = field(default_factory=list)  # (key, record counter)
    jobs: list[tuple[TenantKey, str, str, bytes | None]] = field(default_factory=list)  # None: gone
    progress: list[tuple[TenantKey, str, str, bytes]] = field(default_factory=list)  # counts only
    records: list[tuple[TenantKey, str, str, bytes | None]] = field(default_factory=list)
    wiped: list[TenantKey] = field(default_factory=list)  # tenants whose records all went
    meta: dict[str, bytes] = field(default_factory=dict)  # server-wide values that changed
    journal: list[Block] = field(default_factory=list)  # new journal entries
    journal_oldest: dict[str, int] = field(default_factory=dict)  # namespace → oldest kept seq
    journal_cleared: list[str | None] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cleared or self.tenants or self.jobs or self.progress or self.records
                    or self.wiped or self.meta or self.journal or self.journal_cleared)


@dataclass(slots=True)
class Loaded:
    """What a backend read back, in the order it was written."""

    meta: dict[str, bytes]
    tenants: list[tuple[TenantKey, int]]
    jobs: Iterable[tuple[TenantKey, bytes]]
    records: Iterable[tuple[TenantKey, str, bytes]]
    journal: Iterable[bytes]  # blocks (codec.decode_block)
    progress: Iterable[tuple[TenantKey, str, str, bytes]] = ()  # jobs' counts written apart


class Marks:
    """What changed since the last batch (insertion-ordered sets)."""

    __slots__ = ("jobs", "tenants", "cleared", "wake")

    def __init__(self) -> None:
        self.jobs: dict[JobKey, bool] = {}  # True: only its counts changed
        self.tenants: dict[TenantKey, None] = {}
        self.cleared: list[str | None] = []
        self.wake: Callable[[], None] = _nothing  # the writer's: something is waiting

    def job(self, key: TenantKey, kind: str, job_id: str, counts_only: bool = False) -> None:
        """Note a changed job (`counts_only`: nothing but its counts changed since the last
        batch; then only they are written)."""
        mark = (key, kind, job_id)
        self.jobs[mark] = counts_only and self.jobs.get(mark, True)
        self.wake()


def _carry_items(old: Job, new: Job) -> None:
    """A running import's decoded inputs stay with its next version when they are the same
    inputs (the codec shares one decoded copy of unchanged fields): not parsed again."""
    if old.run is not None and new.run is not None and old.run.items is not None \
            and dict.get(old.fields, "inputs") is dict.get(new.fields, "inputs") is not None:
        new.run.items = old.run.items


def _nothing() -> None:
    return None


@dataclass(slots=True)
class DurableTenant(Tenant):
    """A tenant whose job writes are noted for the backend."""

    marks: Marks = field(default_factory=Marks)
    rev: int = 0  # the shared database's revision this copy is at (postgres.py)

    def add(self, job: Job) -> Job:
        """Store a new job (noted)."""
        self.marks.job(self.key, job.kind, job.id)
        return Tenant.add(self, job)

    def put(self, job: Job, expected: int, counts_only: bool = False) -> None:
        """Store a changed job (noted; `counts_only`: its counts are written apart)."""
        Tenant.put(self, job, expected)
        self.marks.job(self.key, job.kind, job.id, counts_only)

    def remove(self, kind: str, job_id: str) -> Job | None:
        """Delete a job (noted)."""
        self.marks.job(self.key, kind, job_id)
        return Tenant.remove(self, kind, job_id)

    def records_changed(self) -> None:
        """Records changed with no job write (noted: the tenant's dirty records go along)."""
        self.marks.tenants[self.key] = None
        self.marks.wake()


class DurableStore(Store):
    """The in-memory Store, marking every change for `collect`."""

    def __init__(self, seed: int, loader: Callable[[Tenant], None] | None = None) -> None:
        super().__init__(seed, loader)
        self.marks = Marks()

    def new_tenant(self, key: TenantKey) -> Tenant:
        """An empty tenant that notes its writes; the tenant itself is noted too."""
        self.marks.tenants[key] = None
        self.marks.wake()
        return DurableTenant(key, self.ids, self.feed, marks=self.marks)

    def tenant(self, key: TenantKey) -> Tenant:
        """The tenant for a key; a new one's records are noted from the start."""
        found = self._tenants.get(key)
        if found is not None:
            return found
        found = super().tenant(key)
        records = found.records
        if records is not None and getattr(records, "dirty", ()) is None:
            records.dirty = {WIPED: None}  # type: ignore[attr-defined]  # write them all
        return found

    def clear(self, namespace: str | None = None) -> int:
        """Forget tenants (noted: their rows go first in the next batch)."""
        dropped = super().clear(namespace)
        self.marks.cleared.append(namespace)
        self.marks.wake()
        return dropped

    # ---- writing -------------------------------------------------------------------------

    def collect(self, batch: Batch, only: TenantKey | None = None) -> None:
        """Move every mark (or those of tenant `only`) into `batch` as stored bytes (on the
        loop: no change is half in)."""
        marks = self.marks
        if only is None:
            batch.cleared, marks.cleared = marks.cleared, []
        touched: dict[TenantKey, Tenant] = {}
        for key in [k for k in marks.tenants if only is None or k == only]:
            del marks.tenants[key]
            tenant = self.peek(key)
            if tenant is not None:
                touched[key] = tenant
        if only is None:
            changed, marks.jobs = list(marks.jobs.items()), {}
        else:
            changed = [(m, c) for m, c in marks.jobs.items() if m[0] == only]
            for m, _ in changed:
                del marks.jobs[m]
        for (key, kind, job_id), counts_only in changed:
            tenant = self.peek(key)
            job = tenant.get(kind, job_id) if tenant is not None else None
            if job is None or tenant is None:
                batch.jobs.append((key, kind, job_id, None))
                continue
            touched[key] = tenant
            records = tenant.records
            tracked = records is not None and records.tracks(job)
            if counts_only:
                batch.progress.append((key, kind, job_id, codec.encode_progress(job, tracked)))
            else:
                batch.jobs.append((key, kind, job_id, codec.encode_job(job, tracked)))
        for key, tenant in touched.items():
            records = tenant.records
            dirty = getattr(records, "dirty", None)
            batch.tenants.append((key, getattr(records, "counter", 0)))
            if not dirty:
                continue
            records.dirty = {}  # type: ignore[union-attr]
            if WIPED in dirty:
                batch.wiped.append(key)
                dirty = {(t, r["id"]): None for t in records.types()  # type: ignore[union-attr]
                         for r in records.list(t)}  # type: ignore[union-attr]
            for rtype, rid in dirty:
                rec = records.get(rtype, rid)  # type: ignore[union-attr]
                batch.records.append((key, rtype, rid, None if rec is None else codec.dumps(rec)))

    def retry(self, batch: Batch) -> None:
        """A batch that could not be written: mark what it held again."""
        self.marks.cleared[:0] = batch.cleared
        for key, kind, job_id, _ in batch.jobs:
            self.marks.job(key, kind, job_id)
        for key, kind, job_id, _ in batch.progress:
            self.marks.job(key, kind, job_id, counts_only=True)
        for key, _ in batch.tenants:
            tenant = self.peek(key)
            if tenant is not None and getattr(tenant.records, "dirty", None) is not None:
                tenant.records.dirty[WIPED] = None  # type: ignore[union-attr]
            self.marks.tenants[key] = None

    # ---- reading back --------------------------------------------------------------------

    def absorb(self, key: TenantKey, counter: int, rev: int,
               jobs: Iterable[tuple[str, str, bytes | None]],
               records: Iterable[tuple[str, str, bytes | None]],
               progress: Iterable[tuple[str, str, bytes]] = ()) -> Tenant:
        """Bring one tenant's copy up to a shared database's revision `rev`: the rows written
        since the copy's own (None: deleted), unmarked, in the order they were written, then
        the counts written apart that are newer than their job's version."""
        tenant = self._tenants.get(key)
        if tenant is None:
            tenant = DurableTenant(key, self.ids, self.feed, marks=self.marks)
            if self.reviver is not None:
                self.reviver(tenant)
            if tenant.records is not None:
                tenant.records.dirty = {}  # type: ignore[attr-defined]
            self._tenants[key] = tenant
        kept = tenant.records
        for rtype, rid, raw in records:
            if kept is None:
                break
            if raw is None:
                kept.drop(rtype, rid)  # type: ignore[attr-defined]
            else:
                kept.put(rtype, codec.loads(raw))  # type: ignore[attr-defined]
        if kept is not None:
            kept.counter = counter  # type: ignore[attr-defined]
        for kind, job_id, raw in jobs:
            if kept is not None:
                kept.untrack(job_id)
            if raw is None:
                Tenant.remove(tenant, kind, job_id)
                continue
            job, tracked = codec.decode_job(raw)
            rows = tenant.jobs.get(kind)
            old = rows.get(job_id) if rows is not None else None
            if old is not None:
                _carry_items(old, job)
                rows[job_id] = job  # replaces the old object in place (its kept renders go stale)
            else:
                Tenant.add(tenant, job)  # at the end, unmarked (notes any created_at disorder)
            if tracked and kept is not None:
                kept.follow(job)  # type: ignore[attr-defined]
        for kind, job_id, raw in progress:
            job = tenant.get(kind, job_id)
            tracked = None if job is None else codec.apply_progress(job, raw)
            if tracked is not None and kept is not None:  # followed from its new counts
                if tracked:
                    kept.follow(job)  # type: ignore[attr-defined]
                else:
                    kept.untrack(job_id)
        tenant.rev = rev  # type: ignore[attr-defined]
        return tenant

    def drop(self, key: TenantKey) -> None:
        """Forget one tenant's copy (nothing marked); renderings made from it go stale."""
        if self._tenants.pop(key, None) is not None:
            self.generation += 1

    def forget(self, namespace: str | None) -> None:
        """Drop tenants as a reset through another replica did (nothing marked)."""
        cleared = list(self.marks.cleared)
        Store.clear(self, namespace)
        self.marks.cleared = cleared

    def restore(self, loaded: Loaded) -> None:
        """Take over what a backend loaded: tenants with their records and jobs, unmarked."""
        for key, counter in loaded.tenants:
            tenant = DurableTenant(key, self.ids, self.feed, marks=self.marks)
            if self.reviver is not None:
                self.reviver(tenant)
            if tenant.records is not None:
                tenant.records.counter = counter  # type: ignore[attr-defined]
            self._tenants[key] = tenant
        by_type: dict[tuple[TenantKey, str], list[dict[str, Any]]] = {}
        for key, rtype, raw in loaded.records:
            by_type.setdefault((key, rtype), []).append(codec.loads(raw))
        for (key, rtype), recs in by_type.items():
            records = self._tenants[key].records
            if records is not None:
                records.load(rtype, recs)  # type: ignore[attr-defined]
        running: dict[tuple[TenantKey, str, str], bool] = {}
        for key, raw in loaded.jobs:
            job, tracked = codec.decode_job(raw)
            Tenant.add(self._tenants[key], job)
            running[(key, job.kind, job.id)] = tracked
        for key, kind, job_id, raw in loaded.progress:  # counts newer than their job's row
            job = self._tenants[key].get(kind, job_id)
            tracked = None if job is None else codec.apply_progress(job, raw)
            if tracked is not None:
                running[(key, kind, job_id)] = tracked
        for (key, kind, job_id), tracked in running.items():
            records = self._tenants[key].records
            if tracked and records is not None:  # scheduled from its newest counts
                records.follow(self._tenants[key].get(kind, job_id))  # type: ignore[attr-defined]
        for tenant in self._tenants.values():
            if tenant.records is not None:
                tenant.records.dirty = {}  # type: ignore[attr-defined]
        self.marks.jobs, self.marks.tenants, self.marks.cleared = {}, {}, []
