"""Job lifecycles as data: a Plan plus `now` gives status, timestamps and counters. Pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

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
    # Statuses that never change again; the stages before the work (made once: read per request)
    terminal: frozenset[str] = field(init=False, repr=False, compare=False)
    waiting: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ends = {self.completed, self.interrupted, *self.extra_outcomes}
        if self.failed:
            ends.add(self.failed)
        object.__setattr__(self, "terminal", frozenset(ends))
        object.__setattr__(self, "waiting", self.stages[:-1])

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
    """What will happen to a job: the instant each stage ends, work size, and its fate.

    Every point is an absolute instant, so a rewrite that ends a stage "now" sets exactly `now`
    and nothing needs patching for float noise. Released stalls push the work's end back
    (`ends[-1]` includes them); `pauses` says when the work stood still.
    """

    start: float
    ends: tuple[float, ...]  # when each stage ends; the last stage is the work
    total: int = 0
    done: int = 0  # items already processed before this plan (an export resumed by _start)
    outcome: str | None = None  # terminal status when the work ends; None → lifecycle.completed
    interrupt_at: float | None = None
    fail_at: float | None = None
    stall_at: float | None = None  # work freezes here until released
    stop_for: float = 0.0  # how long a stopping status lasts after an interrupt by default
    stopped_at: float | None = None  # when a stopping status ended for a fact (report, advance)
    first_stage: str | None = None  # initial status when it differs (Rackspace start_scheduled)
    pauses: tuple[tuple[float, float], ...] = ()  # (from, seconds) the work was stalled, released
    # Worked out once (a plan is read on every poll): the first thing that ends it (see
    # `ending`), the instant its work can reach at most (`stops`), when the work begins, how
    # long it runs without its pauses, and how far `items_at`'s float arithmetic may be off.
    _end: tuple[float, int] | None = field(init=False, repr=False, compare=False, default=None)
    _cap: float = field(init=False, repr=False, compare=False, default=math.inf)
    _run_start: float = field(init=False, repr=False, compare=False, default=0.0)
    _run_for: float = field(init=False, repr=False, compare=False, default=0.0)
    _noise: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        ends: list[tuple[float, int]] = []
        if self.interrupt_at is not None:
            ends.append((self.interrupt_at, _INTERRUPT))
        if self.fail_at is not None:
            ends.append((self.fail_at, _FAIL))
        if self.stall_at is None:
            ends.append((self.ends[-1], _COMPLETE))
        end = min(ends) if ends else None
        cap = math.inf if end is None else end[0]
        if self.stall_at is not None:
            cap = min(cap, self.stall_at)
        run_start = self.ends[-2] if len(self.ends) > 1 else self.start
        run_for = self.ends[-1] - run_start - sum(seconds for _, seconds in self.pauses)
        noise = 16 * math.ulp(abs(self.ends[-1]) + 1.0) / run_for if run_for > 0 else 0.0
        for name, value in (("_end", end), ("_cap", cap), ("_run_start", run_start),
                            ("_run_for", run_for), ("_noise", noise)):
            object.__setattr__(self, name, value)

    @classmethod
    def timed(cls, start: float, durations: Sequence[float], **fields: Any) -> Plan:
        """A plan whose stages last `durations` one after the other from `start`."""
        ends, t = [], start
        for seconds in durations:
            t += seconds
            ends.append(t)
        return cls(start, tuple(ends), **fields)

    @property
    def durations(self) -> tuple[float, ...]:
        """How long each stage lasts (the work's, released stalls included)."""
        begins = (self.start, *self.ends[:-1])
        return tuple(end - begin for begin, end in zip(begins, self.ends, strict=True))

    @property
    def paused(self) -> float:
        """Total seconds of released stalls (they pushed the end back)."""
        return sum(seconds for _, seconds in self.pauses)

    @property
    def run_start(self) -> float:
        """When the working (last) stage begins."""
        return self._run_start

    @property
    def run_end(self) -> float:
        """When the work would finish if nothing interferes."""
        return self.ends[-1]

    @property
    def stop_end(self) -> float:
        """When a stopping status (after an interrupt) gives way to the interrupted one."""
        if self.stopped_at is not None:
            return self.stopped_at
        return (self.interrupt_at if self.interrupt_at is not None else self.start) + self.stop_for

    def stage_begins(self, index: int) -> float:
        """When stage `index` begins."""
        return self.ends[index - 1] if index > 0 else self.start

    def ending(self) -> tuple[float, int] | None:
        """The first thing that ends this plan: (instant, kind), or None while stalled forever."""
        return self._end

    def stops(self, now: float) -> float:
        """The instant the work stands at `now`: `now`, or earlier when it ended or stalled."""
        cap = self._cap
        return now if now < cap else cap

    def fraction_at(self, now: float) -> float:
        """Share of the remaining work done at `now` (0..1), frozen by interrupt, failure, stall."""
        stop = self.stops(now)
        run_start = self._run_start
        if stop < run_start:
            return 0.0
        if stop >= self.ends[-1]:
            return 1.0
        run_for = self._run_for
        if run_for <= 0:
            return 1.0
        worked = stop - run_start
        for at, seconds in self.pauses:
            worked -= max(0.0, min(stop - at, seconds))
        return max(0.0, min(1.0, worked / run_for))

    def instant_of(self, fraction: float) -> float:
        """When the work reaches `fraction` (0..1) of what remains, counting released stalls;
        the whole of it at `run_end` exactly."""
        ends = self.ends
        run_end = ends[-1]
        if fraction >= 1.0:
            return run_end
        run_start = ends[-2] if len(ends) > 1 else self.start
        pauses = self.pauses
        if not pauses:  # (the common case, computed inline: once per item of every import)
            return min(run_start + (run_end - run_start) * max(0.0, fraction), run_end)
        t = run_start + (run_end - run_start - self.paused) * max(0.0, fraction)
        for at, seconds in sorted(pauses):
            if at < t:
                t += seconds
        return min(t, run_end)

    def item_instant(self, items: float) -> float:
        """When `items` items (of `total`, counting those `done` before the plan) are processed."""
        remaining = self.total - self.done
        if remaining <= 0:
            return self.run_start
        return self.instant_of((items - self.done) / remaining)

    def items_at(self, now: float) -> int:
        """Items processed by `now`: exactly those whose `item_instant` has come (an item at the
        very instant of an interrupt is processed), so the records simulation, which applies
        item n at its instant, and the counters a client reads always agree."""
        remaining = self.total - self.done
        if remaining <= 0:
            return self.done
        exact = remaining * self.fraction_at(now)
        n = min(remaining, math.floor(exact))
        if self._run_for > 0:  # how far the float arithmetic above may be off, in items
            noise = remaining * self._noise
            if noise < exact - n < 1 - noise:
                return self.done + n  # far from any item's instant: nothing to settle
        stop = self.stops(now)
        while n < remaining and self.item_instant(self.done + n + 1) <= stop:
            n += 1
        while n > 0 and self.item_instant(self.done + n) > stop:
            n -= 1
        return self.done + n


@dataclass(slots=True)
class View:
    """A job as seen at one instant; never changed once made (not frozen: one is made per read,
    and a frozen dataclass takes ~5× longer to make)."""

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
            if lc.stopping and now < plan.stop_end:
                return lc.stopping
            return lc.interrupted
        if kind == _FAIL:
            return lc.failed or lc.interrupted
        return plan.outcome or lc.completed
    for i, (stage, end) in enumerate(zip(lc.stages, plan.ends, strict=True)):
        if now < end:
            return plan.first_stage if i == 0 and plan.first_stage else stage
    return lc.stages[-1]  # stalled in the working stage


def transitions(lc: Lifecycle, plan: Plan, now: float) -> tuple[tuple[str, float], ...]:
    """Every (status, instant) this plan has passed through up to `now`, in order."""
    end = plan.ending()
    cut = end[0] if end is not None else math.inf
    out: list[tuple[str, float]] = []
    for i, stage in enumerate(lc.stages):
        t = plan.stage_begins(i)
        # A stage that begins at the very instant the plan ends did begin: a client reading at
        # that instant before a PATCH ended the job saw it, and zero-length work still started.
        if t > now or (i > 0 and t > cut):
            break
        out.append((plan.first_stage if i == 0 and plan.first_stage else stage, t))
    if end is not None and end[0] <= now:
        at, kind = end
        if kind == _INTERRUPT and lc.stopping:
            out.append((lc.stopping, at))
            if now >= plan.stop_end:
                out.append((lc.interrupted, plan.stop_end))
        else:
            out.append((status_at(lc, plan, at), at))
    return tuple(out)


def view(lc: Lifecycle, plan: Plan, now: float) -> View:
    """Status, timestamps and counters of a job at `now`."""
    end = plan.ending()
    if end is not None and end[0] <= now and status_at(lc, plan, now) in lc.terminal:
        return _ended(lc, plan)  # an ended plan looks the same at every later instant
    return _view(lc, plan, now)


@lru_cache(maxsize=4096)  # a pure function of two frozen values: lists show ended jobs again
def _ended(lc: Lifecycle, plan: Plan) -> View:
    return _view(lc, plan, math.inf)


def _view(lc: Lifecycle, plan: Plan, now: float) -> View:
    steps = transitions(lc, plan, now)
    if not steps:  # asked about an instant before the job existed
        return View(plan.first_stage or lc.stages[0], None, None, plan.done, 0.0, None, plan.start)
    status, latest = steps[-1]
    work = lc.stages[-1]
    started = None
    for stage, at in steps:  # (a loop: a generator costs more than the 2-4 steps it reads)
        if stage == work:
            started = at
            break
    ended = latest if status in lc.terminal else None
    if status == (plan.outcome or lc.completed) or status in lc.extra_outcomes:
        processed, progress = plan.total, 100.0
    else:
        processed = plan.items_at(now)
        progress = (round(100.0 * processed / plan.total, 2) if plan.total
                    else 100.0 * plan.fraction_at(now))
    running = status == work and plan.stall_at is None
    eta = plan.ends[-1] if running or status in lc.waiting else None
    return View(status, started, ended, processed, progress, eta, latest, steps)


def interrupt(plan: Plan, now: float) -> Plan:
    """The same plan, interrupted at `now` (keeps an earlier interrupt)."""
    if plan.interrupt_at is not None and plan.interrupt_at <= now:
        return plan
    return replace(plan, interrupt_at=now)


def release(plan: Plan, now: float) -> Plan:
    """Un-stall: the work continues from `now` where it froze (its end moves back as long)."""
    if plan.stall_at is None:
        return plan
    frozen_from = max(plan.stall_at, plan.run_start)
    if now <= frozen_from:
        return replace(plan, stall_at=None)
    seconds = now - frozen_from
    return replace(plan, stall_at=None, pauses=(*plan.pauses, (frozen_from, seconds)),
                   ends=(*plan.ends[:-1], plan.ends[-1] + seconds))


def end_stage(plan: Plan, index: int, at: float, *, then: int | None = None) -> Plan:
    """Stage `index` ends at `at` exactly; the stages up to `then` (default: none) last no time,
    and the ones after keep their durations."""
    last = index if then is None else max(index, then - 1)
    shift = at - plan.ends[last]
    rest = plan.ends[last + 1:]
    if math.isfinite(shift):  # (a held stage ends: the held ones after it stay held)
        rest = tuple(end + shift for end in rest)
    return replace(plan, ends=(*plan.ends[:index], *(at,) * (last - index + 1), *rest))


def hold_from(plan: Plan, index: int) -> Plan:
    """Stages from `index` on last until something ends them (an agent's next report)."""
    return replace(plan, ends=(*plan.ends[:index], *(math.inf,) * (len(plan.ends) - index)))
