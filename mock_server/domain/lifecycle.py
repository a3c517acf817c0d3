"""Job lifecycles as data: a Plan plus `now` gives status, timestamps and counters. Pure, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

_INTERRUPT, _FAIL, _COMPLETE = 0, 1, 2  # tie-break: an interrupt at the same instant wins


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Status names of one job type: stages in order (work happens in the last), then an end."""

    stages: tuple[str, ...]
    completed: str
    interrupted: str
    stopping: str | None = None  # Rackspace: stop_requested until the agent reports stopped
    failed: str | None = None  # only types whose spec enum has a failed state
    extra_outcomes: tuple[str, ...] = ()  # other terminal outcomes (completed_with_errors)

    @property
    def terminal(self) -> frozenset[str]:
        """Statuses that never change again."""
        ends = {self.completed, self.interrupted, *self.extra_outcomes}
        if self.failed:
            ends.add(self.failed)
        return frozenset(ends)

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status this lifecycle can report, in lifecycle order."""
        out = [*self.stages, *([self.stopping] if self.stopping else [])]
        out += [self.completed, *self.extra_outcomes, self.interrupted]
        return tuple(out + ([self.failed] if self.failed else []))


# Transitions are data: one table per job type; status names are checked against the spec's
# enums at start-up (model.py), so a typo here fails loudly instead of serving a wrong status.
LIFECYCLES: dict[str, Lifecycle] = {
    "imports": Lifecycle(("pending", "in_progress"), "completed", "interrupted"),
    "exports": Lifecycle(("pending", "in_progress"), "completed", "interrupted", failed="failed"),
    "cleanups": Lifecycle(("pending", "in_progress"), "completed", "interrupted"),
    # notes: rackspace_cleanups.md §7 (transition diagram is inferred there, documented in README)
    "rackspace_cleanups": Lifecycle(
        ("start_requested", "queued", "in_progress"),
        "completed",
        "stopped",
        stopping="stop_requested",
        failed="failed",
        extra_outcomes=("completed_with_errors",),
    ),
}


@dataclass(frozen=True, slots=True)
class Plan:
    """What will happen to a job: stage durations from `start`, work size, and its fate."""

    start: float
    durations: tuple[float, ...]
    total: int = 0
    done: int = 0  # items already processed before this plan (an export resumed by _start)
    outcome: str | None = None  # terminal status when the work ends; None → lifecycle.completed
    interrupt_at: float | None = None
    fail_at: float | None = None
    stall_at: float | None = None  # work freezes here until released
    stop_for: float = 0.0  # how long a stopping status lasts before the interrupted one
    first_stage: str | None = None  # initial status when it differs (Rackspace start_scheduled)
    pauses: tuple[tuple[float, float], ...] = ()  # (from, seconds) the work was stalled, released

    @property
    def paused(self) -> float:
        """Total seconds of released stalls (they push the end back)."""
        return sum(seconds for _, seconds in self.pauses)

    @property
    def run_start(self) -> float:
        """When the working (last) stage begins."""
        return self.start + sum(self.durations[:-1])

    @property
    def run_end(self) -> float:
        """When the work would finish if nothing interferes."""
        return self.start + sum(self.durations) + self.paused

    def ending(self) -> tuple[float, int] | None:
        """The first thing that ends this plan: (instant, kind), or None while stalled forever."""
        ends: list[tuple[float, int]] = []
        if self.interrupt_at is not None:
            ends.append((self.interrupt_at, _INTERRUPT))
        if self.fail_at is not None:
            ends.append((self.fail_at, _FAIL))
        if self.stall_at is None:
            ends.append((self.run_end, _COMPLETE))
        return min(ends) if ends else None

    def fraction_at(self, now: float) -> float:
        """Share of the remaining work done at `now` (0..1), frozen by interrupt, failure, stall."""
        stop = now
        end = self.ending()
        if end is not None:
            stop = min(stop, end[0])
        if self.stall_at is not None:
            stop = min(stop, self.stall_at)
        run_for = self.durations[-1]
        if stop < self.run_start:
            return 0.0
        if run_for <= 0:
            return 1.0
        worked = stop - self.run_start
        for at, seconds in self.pauses:
            worked -= max(0.0, min(stop - at, seconds))
        return max(0.0, min(1.0, worked / run_for))

    def time_for_fraction(self, fraction: float) -> float:
        """Instant at which `fraction` (0..1) of the work is done, ignoring interference."""
        return self.run_start + self.durations[-1] * max(0.0, min(1.0, fraction))


@dataclass(frozen=True, slots=True)
class View:
    """A job as seen at one instant."""

    status: str
    started_at: float | None
    ended_at: float | None  # completed_at / interrupted_at / failed_at, by status
    processed: int
    progress: float  # 0..100
    estimated_completion_at: float | None
    updated_at: float
    transitions: tuple[tuple[str, float], ...] = field(default=())


def status_at(lc: Lifecycle, plan: Plan, now: float) -> str:
    """The status at `now`: the end if it has come, else the stage the clock is in."""
    end = plan.ending()
    if end is not None and end[0] <= now:
        at, kind = end
        if kind == _INTERRUPT:
            if lc.stopping and now < at + plan.stop_for:
                return lc.stopping
            return lc.interrupted
        if kind == _FAIL:
            return lc.failed or lc.interrupted
        return plan.outcome or lc.completed
    t = plan.start
    for i, (stage, duration) in enumerate(zip(lc.stages, plan.durations, strict=True)):
        t += duration
        if now < t:
            return plan.first_stage if i == 0 and plan.first_stage else stage
    return lc.stages[-1]  # stalled in the working stage


def transitions(lc: Lifecycle, plan: Plan, now: float) -> tuple[tuple[str, float], ...]:
    """Every (status, instant) this plan has passed through up to `now`, in order."""
    end = plan.ending()
    cut = end[0] if end is not None else math.inf
    out: list[tuple[str, float]] = []
    t = plan.start
    for i, (stage, duration) in enumerate(zip(lc.stages, plan.durations, strict=True)):
        # A stage that begins at the very instant the plan ends did begin: a client reading at
        # that instant before a PATCH ended the job saw it, and zero-length work still started.
        if t > now or (i > 0 and t > cut):
            break
        out.append((plan.first_stage if i == 0 and plan.first_stage else stage, t))
        t += duration
    if end is not None and end[0] <= now:
        at, kind = end
        if kind == _INTERRUPT and lc.stopping:
            out.append((lc.stopping, at))
            if now >= at + plan.stop_for:
                out.append((lc.interrupted, at + plan.stop_for))
        else:
            out.append((status_at(lc, plan, at), at))
    return tuple(out)


def view(lc: Lifecycle, plan: Plan, now: float) -> View:
    """Status, timestamps and counters of a job at `now`."""
    if status_at(lc, plan, now) in lc.terminal:
        return _ended(lc, plan)  # an ended plan looks the same at every later instant
    return _view(lc, plan, now)


@lru_cache(maxsize=4096)  # a pure function of two frozen values: lists show ended jobs again
def _ended(lc: Lifecycle, plan: Plan) -> View:
    return _view(lc, plan, math.inf)


def _view(lc: Lifecycle, plan: Plan, now: float) -> View:
    steps = transitions(lc, plan, now)
    if not steps:  # asked about an instant before the job existed
        return View(plan.first_stage or lc.stages[0], None, None, plan.done, 0.0, None, plan.start)
    status = steps[-1][0]
    started = next((at for s, at in steps if s == lc.stages[-1]), None)
    ended = steps[-1][1] if status in lc.terminal else None
    frac = plan.fraction_at(now)
    remaining = max(0, plan.total - plan.done)
    if status == (plan.outcome or lc.completed) or status in lc.extra_outcomes:
        processed, progress = plan.total, 100.0
    else:
        processed = plan.done + math.floor(remaining * frac + 1e-6)  # float noise at 1e9 s
        progress = round(100.0 * processed / plan.total, 2) if plan.total else 100.0 * frac
    running = status == lc.stages[-1] and plan.stall_at is None
    eta = plan.run_end if running or status in lc.stages[:-1] else None
    return View(status, started, ended, processed, progress, eta, steps[-1][1], steps)


def interrupt(plan: Plan, now: float) -> Plan:
    """The same plan, interrupted at `now` (keeps an earlier interrupt)."""
    if plan.interrupt_at is not None and plan.interrupt_at <= now:
        return plan
    return replace(plan, interrupt_at=now)


def release(plan: Plan, now: float) -> Plan:
    """Un-stall: the work continues from `now` where it froze."""
    if plan.stall_at is None:
        return plan
    frozen_from = max(plan.stall_at, plan.run_start)
    if now <= frozen_from:
        return replace(plan, stall_at=None)
    return replace(plan, stall_at=None, pauses=(*plan.pauses, (frozen_from, now - frozen_from)))
