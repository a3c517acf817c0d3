"""Pure plan rewrites for QA: put a scenario's points on a job's time line, or jump it to a state.

Every rewrite keeps what a client may already have seen: stages that are over keep their
durations, points given as a % become instants no earlier than `now`, and a job never goes back.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ..domain import lifecycle
from ..domain.lifecycle import Lifecycle, Plan
from .scenario import Scenario, ScenarioError, TooLate

# notes: commercelayer_api.md §2.1, §2.4 — imports (unless skip_errors) and cleanups are
# interrupted automatically once errors exceed 10% of the batch; exports have no item errors.
AUTO_INTERRUPT = frozenset({"imports", "cleanups"})
AUTO_INTERRUPT_SHARE = 0.1
ITEM_ERRORS = frozenset({"imports", "cleanups", "rackspace_cleanups"})


# What an item a scenario's error_rate fails says in errors_log (notes: commercelayer_api.md §2.6,
# ActiveModel-style {attribute: [messages]}); imports rotate through three realistic ones.
_IMPORT_ERRORS = ({"shipping_category": ["must exist"]}, {"name": ["can't be blank"]},
                  {"code": ["has already been taken"]})
_CLEANUP_ERROR = {"base": ["cannot be deleted: dependent records exist"]}  # inferred wording


def item_error(kind: str, rate: float | None, n: int) -> dict[str, list[str]] | None:
    """The error a scenario's `rate` gives item `n` (1-based) of a `kind` job, None when that
    item is not one it fails. The only error_rate code: the records simulation applies it."""
    if not rate or kind not in AUTO_INTERRUPT or errors_in(n, rate) == errors_in(n - 1, rate):
        return None
    ordinal = errors_in(n, rate) - 1
    return dict(_IMPORT_ERRORS[ordinal % 3]) if kind == "imports" else dict(_CLEANUP_ERROR)


def errors_in(items: int, rate: float) -> int:
    """How many of the first `items` items error when a share `rate` of them does (evenly spread)."""
    return math.floor(items * rate + 1e-9)


def auto_interrupt_items(total: int, rate: float) -> int | None:
    """The item count at which errors first exceed 10% of the batch, or None if they never do."""
    if rate <= 0 or total <= 0:
        return None
    threshold = AUTO_INTERRUPT_SHARE * total
    items = max(1, math.ceil((math.floor(threshold) + 1) / rate) - 2)
    while items <= total and errors_in(items, rate) <= threshold:
        items += 1
    return items if items <= total else None


def stage_index(lc: Lifecycle, plan: Plan, name: str, key: str) -> int:
    """Index of a stage of `lc` by name (`running` = the working stage, `pending` = the first)."""
    if name in lc.stages:
        return lc.stages.index(name)
    if name == "running":
        return len(lc.stages) - 1
    if name in ("pending", plan.first_stage):
        return 0
    names = ", ".join([*lc.stages, "running"])
    raise ScenarioError(f"{key}: {name!r} is not a stage of this job type ({names})", key)


def progress_instant(plan: Plan, percent: float) -> float:
    """When the job's progress reaches `percent`."""
    if plan.total <= 0:
        return plan.instant_of(percent / 100)
    return plan.item_instant(plan.total * percent / 100)


def check(sc: Scenario, lc: Lifecycle, kind: str, plan: Plan) -> None:
    """Refuse what this job type cannot do, naming the scenario key."""
    if sc.fail_at is not None and lc.failed is None:
        # notes: commercelayer_api.md §2.1 — `failed` exists only on exports
        raise ScenarioError(f"fail_at: {kind} have no failed status; use interrupt_at or "
                            "error_rate", "fail_at")
    if sc.error_rate is not None and kind not in ITEM_ERRORS:
        raise ScenarioError(f"error_rate: {kind} have no per-item errors; use fail_at",
                            "error_rate")
    if sc.outcome is not None and sc.outcome not in (lc.completed, *lc.extra_outcomes):
        allowed = ", ".join((lc.completed, *lc.extra_outcomes))
        hint = "; use fail_at to fail" if sc.outcome == lc.failed else ""
        raise ScenarioError(f"outcome: {kind} can end the work as {allowed}{hint}", "outcome")
    for name, _ in sc.durations:
        stage_index(lc, plan, name, f"durations.{name}")
    if isinstance(sc.interrupt_at, str):
        stage_index(lc, plan, sc.interrupt_at, "interrupt_at")


def _durations(sc: Scenario, plan: Plan, lc: Lifecycle, now: float) -> Plan:
    last = len(plan.ends) - 1
    wanted = {stage_index(lc, plan, name, "durations"): secs for name, secs in sc.durations}
    for i in sorted(wanted):
        start = plan.stage_begins(i)
        if i == last and now > plan.run_start:
            raise TooLate(f"durations: the job is already {lc.stages[last]}; its running time "
                          "can no longer change (use stall or advance)", "durations")
        if i != last and plan.ends[i] <= now and now > plan.start:
            raise TooLate(f"durations: stage {lc.stages[i]} is already over", "durations")
        # the current stage cannot end in the past; the stages after it keep their durations
        plan = lifecycle.end_stage(plan, i, max(start + wanted[i], now) if start <= now
                                   else start + wanted[i])
    return plan


def apply(sc: Scenario, plan: Plan, lc: Lifecycle, kind: str, now: float,
          skip_errors: bool = False) -> Plan:
    """The plan with the scenario's durations, stall, interrupt, failure and outcome on it."""
    check(sc, lc, kind, plan)
    status = lifecycle.status_at(lc, plan, now)
    if status in lc.terminal or status == lc.stopping:
        raise TooLate(f"the job is already {status}; a scenario can only change what is to come")
    if sc.durations:
        plan = _durations(sc, plan, lc, now)
    if sc.stall is not None:
        plan = replace(plan, stall_at=max(now, progress_instant(plan, sc.stall)))
    if isinstance(sc.interrupt_at, str):
        at = plan.stage_begins(stage_index(lc, plan, sc.interrupt_at, "interrupt_at"))
        plan = replace(plan, interrupt_at=max(now, at))
    elif sc.interrupt_at is not None:
        plan = replace(plan, interrupt_at=max(now, progress_instant(plan, sc.interrupt_at)))
    if sc.fail_at is not None:
        plan = replace(plan, fail_at=max(now, progress_instant(plan, sc.fail_at)))
    if sc.outcome is not None:
        plan = replace(plan, outcome=sc.outcome)
    if sc.error_rate:
        plan = _error_effects(sc, plan, lc, kind, now, skip_errors)
    return plan


def _error_effects(sc: Scenario, plan: Plan, lc: Lifecycle, kind: str, now: float,
                   skip_errors: bool) -> Plan:
    rate = sc.error_rate or 0.0
    if kind in AUTO_INTERRUPT and not skip_errors:
        items = auto_interrupt_items(plan.total, rate)
        if items is not None:
            at = max(now, plan.item_instant(items))
            if plan.interrupt_at is None or at < plan.interrupt_at:
                plan = replace(plan, interrupt_at=at)
    if "completed_with_errors" in lc.extra_outcomes and sc.outcome is None:
        # notes: rackspace_cleanups.md §7 — a run that met errors ends completed_with_errors
        plan = replace(plan, outcome="completed_with_errors")
    return plan


def advance(lc: Lifecycle, plan: Plan, target: str, now: float) -> Plan:
    """A plan in which `target` holds from `now` (forward only; the past is kept)."""
    status = lifecycle.status_at(lc, plan, now)
    if status in lc.terminal:
        raise TooLate(f"the job is already {status}", "to")
    if target == status:
        return plan
    if status == lc.stopping:
        if target != lc.interrupted:
            raise TooLate(f"a stop was requested; the job can only end {lc.interrupted}", "to")
        return replace(plan, stopped_at=now)
    current = lc.stages.index(status) if status in lc.stages else 0
    last = len(lc.stages) - 1
    if target == lc.stopping:
        return lifecycle.interrupt(plan, now)
    if target == lc.interrupted:
        return replace(lifecycle.interrupt(plan, now), stopped_at=now)
    if target == lc.failed:
        return replace(plan, fail_at=now)
    if target in lc.stages or target == "running":
        index = stage_index(lc, plan, target, "to")
        if index < current:
            raise TooLate(f"the job is {status}; it cannot go back to {target}", "to")
        return lifecycle.end_stage(plan, current, now, then=index)
    if target in (lc.completed, *lc.extra_outcomes):
        if current < last:
            plan = lifecycle.end_stage(plan, current, now, then=last)
        plan = lifecycle.release(plan, now)
        return replace(  # points still to come would undo the completion; the work ends now
            lifecycle.end_stage(plan, last, now), outcome=None if target == lc.completed else target,
            interrupt_at=None if (plan.interrupt_at or -math.inf) > now else plan.interrupt_at,
            fail_at=None if (plan.fail_at or -math.inf) > now else plan.fail_at)
    allowed = ", ".join(lc.statuses)
    raise ScenarioError(f"to: {target!r} is not a status of this job type ({allowed})", "to")
