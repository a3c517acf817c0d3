"""QA controls: clock, reset, job fates and views; the admin API and pytest call these."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..domain import jobs, lifecycle
from ..domain.errors import NotFound, Unprocessable
from ..domain.lifecycle import LIFECYCLES, Plan
from ..scenarios import fate
from ..scenarios.attach import attach, scenario_error, scenario_of
from ..scenarios.book import ScenarioBook
from ..scenarios.scenario import ScenarioError, parse
from ..timefmt import cl_time, parse_duration, parse_time

if TYPE_CHECKING:
    from ..domain.clock import VirtualClock
    from ..domain.store import Job, Store, Tenant
    from ..settings import Settings
    from .faults import FaultSet
    from .journal import Journal
    from .ratelimit import RateLimiter

# ---- the controls ----------------------------------------------------------------------------


def _plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "start": cl_time(plan.start), "durations": list(plan.durations), "total": plan.total,
        "done": plan.done, "outcome": plan.outcome, "interrupt_at": cl_time(plan.interrupt_at),
        "fail_at": cl_time(plan.fail_at), "stall_at": cl_time(plan.stall_at),
        "stop_for": plan.stop_for, "pauses": [[cl_time(at), s] for at, s in plan.pauses],
    }


class Controls:
    """Every QA control in plain methods; the admin handlers are thin wrappers around these."""

    def __init__(self, *, settings: Settings, clock: VirtualClock, store: Store,
                 journal: Journal, faults: FaultSet, limiter: RateLimiter,
                 book: ScenarioBook,
                 counts: Callable[[Job, lifecycle.View], tuple[int, int]] | None = None
                 ) -> None:
        self.settings, self.clock, self.store = settings, clock, store
        self.journal, self.faults, self.limiter, self.book = journal, faults, limiter, book
        # (processed, errors) so far, as the job's API counts them
        self.counts = counts or (lambda job, seen: (seen.processed, 0))
        # what else a reset forgets (one namespace's, or all): webhook delivery rules
        self.resets: list[Callable[[str | None], Any]] = []

    # clock (a namespace that keeps its own time, as the pytest handle's does, gets its own)
    def clock_state(self, namespace: str | None = None) -> dict[str, Any]:
        """Virtual now, speed and whether time stands still."""
        clock = self.clock.of(namespace)
        now = clock.now()
        return {"now": cl_time(now), "epoch": now, "speed": clock.speed, "frozen": clock.frozen}

    def set_clock(self, *, set: Any = None, advance: Any = None, speed: float | None = None,
                  freeze: bool | None = None, resume: bool | None = None,
                  namespace: str | None = None) -> dict[str, Any]:
        """Apply set, advance, speed, then freeze/resume; 422 naming the bad field."""
        clock = self.clock.of(namespace)
        if freeze and resume:
            raise Unprocessable("freeze and resume together make no sense; send one",
                                pointer="/resume", meta={"error": "invalid"})
        try:
            if set is not None:
                when = float(set) if isinstance(set, int | float) else parse_time(str(set))
                if when < clock.now():
                    raise ValueError("the clock never goes backwards (jobs would regress); "
                                     "start a new server for an earlier time")
                clock.set(when)
        except ValueError as exc:
            raise Unprocessable(f"set: {exc}", pointer="/set", meta={"error": "invalid"}) from None
        if advance is not None:
            try:
                clock.advance(parse_duration(advance))
            except ValueError as exc:
                raise Unprocessable(f"advance: {exc}", pointer="/advance",
                                    meta={"error": "invalid"}) from None
        if speed is not None:
            try:
                clock.set_speed(speed)
            except ValueError as exc:
                raise Unprocessable(str(exc), pointer="/speed",
                                    meta={"error": "invalid"}) from None
        if freeze:
            clock.freeze()
        if resume:
            clock.resume()
        return self.clock_state(namespace)

    # reset
    def reset(self, namespace: str | None = None) -> dict[str, Any]:
        """Forget jobs, records, faults, journal and counts (one namespace, or everything)."""
        tenants = self.store.clear(namespace)
        faults = self.faults.clear(namespace)
        requests = self.journal.clear(namespace)
        self.limiter.reset(namespace)
        self.book.clear(namespace)
        for forget in self.resets:
            forget(namespace)
        if namespace is None:
            self.limiter.enable(self.settings.rate_limits)
        if tenants >= RELEASE_AFTER:
            _release_memory()
        return {"namespace": namespace, "tenants": tenants, "faults": faults,
                "requests": requests}

    # jobs
    def find(self, kind: str, job_id: str, namespace: str = "default") -> tuple[Tenant, Job]:
        """A job by type and id in a namespace (any organization or project); 404 otherwise."""
        if kind in LIFECYCLES:
            for tenant in self.store.tenants(namespace):
                job = tenant.get(kind, job_id)
                if job is not None:
                    return tenant, job
        raise NotFound(f"No {kind} job {job_id!r} in namespace {namespace!r}.",
                       parameter="id")

    def job(self, kind: str, job_id: str, namespace: str = "default",
            api: Callable[[Tenant, Job, float], dict[str, Any]] | None = None) -> dict[str, Any]:
        """A job's plan, scenario and status now, as the admin API shows it; with `api`, also
        what `api` says of it (the admin API: its attributes and events as its vendor's API
        shows them)."""
        tenant, job = self.find(kind, job_id, namespace)
        now = self.clock.now(namespace)
        view = self._view(tenant, job, namespace, now)
        if api is not None:
            view.update(api(tenant, job, now))
        return view

    def jobs(self, namespace: str | None = None, kind: str | None = None,
             status: str | None = None, limit: int = 200) -> dict[str, Any]:
        """Every job (of a namespace, a type, a status now), newest first, as the dashboard lists
        them: status, progress and times at each namespace's now. Without a status filter only
        the newest `limit` of each organization are looked at (open dashboards poll this)."""
        found: list[tuple[float, dict[str, Any]]] = []
        count = 0
        for tenant in self.store.tenants(namespace):
            ns = tenant.key[0]
            now = self.clock.now(ns)
            for k, stored in list(tenant.jobs.items()):
                if kind is not None and k != kind:
                    continue
                lc = LIFECYCLES[k]
                candidates = list(stored.values())
                if status is None:
                    count += len(candidates)
                    if tenant.in_creation_order(k):
                        candidates = candidates[-limit:]
                for job in candidates:
                    seen = lifecycle.view(lc, job.plan, now)
                    if status is not None:
                        if seen.status != status:
                            continue
                        count += 1
                    found.append((job.created_at, self._row(tenant, job, seen)))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return {"count": count, "jobs": [row for _, row in found[:limit]]}

    def _row(self, tenant: Tenant, job: Job, seen: lifecycle.View) -> dict[str, Any]:
        sc = scenario_of(job)
        processed, errors = self.counts(job, seen)
        return {
            "type": job.kind, "id": job.id, "namespace": tenant.key[0],
            "tenant": list(tenant.key[1:]), "status": seen.status,
            "progress": round(seen.progress, 1), "processed": processed, "errors": errors,
            "total": job.plan.total, "created_at": cl_time(job.created_at),
            "started_at": cl_time(seen.started_at), "ended_at": cl_time(seen.ended_at),
            "scenario": None if sc.empty else sc.as_dict(),
        }

    def _view(self, tenant: Tenant, job: Job, namespace: str, now: float) -> dict[str, Any]:
        """One job as the admin API shows it: its row in the job list, its plan and transitions."""
        seen = lifecycle.view(LIFECYCLES[job.kind], job.plan, now)
        return {**self._row(tenant, job, seen), "plan": _plan_dict(job.plan),
                "transitions": [{"status": s, "at": cl_time(at)} for s, at in
                                job.past + seen.transitions]}

    def scenario(self, kind: str, job_id: str, scenario: Any, namespace: str = "default",
                 release: bool = False) -> dict[str, Any]:
        """Attach a scenario to a job now (and/or release a stall); 409 if it is too late."""
        tenant, job = self.find(kind, job_id, namespace)
        now = self.clock.now(namespace)
        with tenant.lock:
            try:
                if release:
                    jobs.change(tenant, job, now, plan=lifecycle.release(job.plan, now),
                                touch=False)
                sc = parse(scenario, self.book.presets)
                if not sc.empty:
                    attach(tenant, job, sc, now, self.book.presets)
            except ScenarioError as exc:
                raise scenario_error(exc, "scenario", "") from None
        return self._view(tenant, job, namespace, now)

    def advance(self, kind: str, job_id: str, to: str, namespace: str = "default"
                ) -> dict[str, Any]:
        """Move one job to status `to` now (forward only); 409 when it cannot get there."""
        tenant, job = self.find(kind, job_id, namespace)
        now = self.clock.now(namespace)
        with tenant.lock:
            try:
                jobs.change(tenant, job, now, plan=fate.advance(LIFECYCLES[kind], job.plan, to, now),
                            touch=False)
            except ScenarioError as exc:
                raise scenario_error(exc, "advance", "") from None
        return self._view(tenant, job, namespace, now)


RELEASE_AFTER = 100  # tenants a reset forgets before it also hands memory back (a full collection)


def _release_memory() -> None:
    """After a reset: free what the forgotten tenants held now (cycles included) and hand the
    C allocator's free pages back to the system where it can (glibc)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
