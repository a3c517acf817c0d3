"""QA controls: clock, reset, job fate and scenario hooks; the admin API and pytest call these."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import jobs, lifecycle
from ..errors import BadRequest, Conflict, NotFound, Unprocessable
from ..lifecycle import LIFECYCLES, Plan, View
from ..timefmt import cl_time, parse_time
from . import fate
from .scenarios import (
    HEADER,
    METADATA_KEY,
    Scenario,
    ScenarioBook,
    ScenarioError,
    TooLate,
    header_value,
    parse,
)

if TYPE_CHECKING:
    from ..clock import VirtualClock
    from ..hooks import OnCreate
    from ..settings import Settings
    from ..store import Job, Store, Tenant
    from .faults import FaultSet
    from .journal import Journal
    from .ratelimit import RateLimiter

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> float:
    """Seconds from a number, a numeric string or an ISO-8601 duration (PT1H30M, P1D, PT0.5S)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.strip().upper())) \
            and value.strip().upper() not in ("P", "PT"):
        seconds = sum(float(v) * _UNIT[k] for k, v in m.groupdict().items() if v)
    else:
        raise ValueError(f"{value!r} is neither seconds nor an ISO-8601 duration like PT1H30M "
                         "(years and months are ambiguous and not accepted)")
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration must be finite and >= 0")
    return seconds


def _scenario_error(exc: ScenarioError, where: str, pointer: str, rackspace: bool = False
                    ) -> Exception:
    if isinstance(exc, TooLate):
        return Conflict(f"{where}: {exc}")
    if rackspace:  # notes: rackspace_cleanups.md §8 — bad input is a 400 "Validation failed."
        return BadRequest("Validation failed.", errors=[f"{where}: {exc}"])
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
    jobs.change(tenant, job, now, plan=plan, extra={"scenario": merged}, touch=False)
    return merged


def scenario_of(job: Job) -> Scenario:
    """The scenario attached to a job (empty when none)."""
    found = (job.extra or {}).get("scenario")
    return found if isinstance(found, Scenario) else Scenario()


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
                raise _scenario_error(exc, f"metadata.{METADATA_KEY}",
                                      f"/data/attributes/metadata/{METADATA_KEY}") from None
            sources.append(f"metadata.{METADATA_KEY}")
        text = header_value(context.get("headers") or {})
        if text:
            try:
                sc = sc.merged(parse(text, book.presets))
            except ScenarioError as exc:
                raise _scenario_error(exc, HEADER, "", rackspace) if rackspace else BadRequest(
                    f"{HEADER}: {exc}", parameter=HEADER) from None
            sources.append(HEADER)
        if sc.empty:
            return
        try:
            attach(tenant, job, sc, job.created_at)
        except ScenarioError as exc:
            raise _scenario_error(exc, f"mock scenario ({', '.join(sources)})",
                                  "/data/attributes", rackspace) from None

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
                 book: ScenarioBook) -> None:
        self.settings, self.clock, self.store = settings, clock, store
        self.journal, self.faults, self.limiter, self.book = journal, faults, limiter, book

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
            if not speed > 0:
                raise Unprocessable("speed must be > 0", pointer="/speed",
                                    meta={"error": "greater_than", "value": speed, "count": 0})
            clock.set_speed(speed)
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
        if namespace is None:
            self.limiter.enable(self.settings.rate_limits)
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

    def job(self, kind: str, job_id: str, namespace: str = "default") -> dict[str, Any]:
        """A job's plan, scenario and status now, as the admin API shows it."""
        tenant, job = self.find(kind, job_id, namespace)
        return self._view(tenant, job, namespace, self.clock.now(namespace))

    def _view(self, tenant: Tenant, job: Job, namespace: str, now: float) -> dict[str, Any]:
        lc = LIFECYCLES[job.kind]
        seen = lifecycle.view(lc, job.plan, now)
        sc = scenario_of(job)
        return {
            "type": job.kind, "id": job.id, "namespace": namespace,
            "tenant": list(tenant.key[1:]), "status": seen.status,
            "processed": seen.processed, "created_at": cl_time(job.created_at),
            "plan": _plan_dict(job.plan), "scenario": None if sc.empty else sc.as_dict(),
            "transitions": [{"status": s, "at": cl_time(at)} for s, at in
                            job.past + seen.transitions],
        }

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
                raise _scenario_error(exc, "scenario", "") from None
            tenant.replanned(job)
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
                raise _scenario_error(exc, "advance", "") from None
            tenant.replanned(job)
        return self._view(tenant, job, namespace, now)
