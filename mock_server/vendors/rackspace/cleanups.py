"""Rackspace cleanups on the shared lifecycle: state moves from PATCH, outcomes, agent reports.

A cleanup is a Job whose Plan runs `start_requested|start_scheduled → queued → in_progress →
completed` on the virtual clock by itself: the mock plays the agent. A PATCH from an agent (a
state other than `stop_requested`, or result fields) takes that role over: the reported state
is then held (its stage lasts `HOLD`) until the agent reports the next one. No aiohttp here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ...domain import jobs, lifecycle
from ...domain.errors import BadRequest, Conflict
from ...domain.lifecycle import Lifecycle, Plan
from ...domain.store import Job, Tenant
from ...timefmt import parse_time, rs_time
from .results import plan_errs

KIND = "rackspace_cleanups"
HOLD = math.inf  # a stage an agent reported lasts until the agent reports the next one

# notes: rackspace_cleanups.md §4 — the documented 409 body, word for word
TERMINAL_MESSAGE = (
    "Modifying a cleanup that is already in a state of "
    "['completed', 'completed_with_errors', 'failed', 'stopped'] is not allowed."
)

# Forward moves an agent may report, by current state. notes: rackspace_cleanups.md §4 (the three
# update scenarios) and §7 (the diagram is inferred there): no skipping, no going back, and
# `stopped` only after a user's stop request.
AGENT_MOVES: Mapping[str, tuple[str, ...]] = {
    "start_requested": ("queued",),
    "start_scheduled": ("queued",),
    "queued": ("in_progress",),
    "in_progress": ("completed", "completed_with_errors", "failed"),
    "stop_requested": ("stopped",),
}
PROGRESS_STATES = ("queued", "in_progress")  # re-reporting one of these is a progress update
OUTCOMES = ("completed", "completed_with_errors", "failed")  # what set_outcome accepts


@dataclass(frozen=True, slots=True)
class PatchOp:
    """One JSON Patch operation, already schema-checked (op is replace or add)."""

    path: str
    value: Any


@dataclass(frozen=True, slots=True)
class Update:
    """What a PATCH does: the new plan, result fields to store, and whether an agent spoke."""

    plan: Plan
    fields: dict[str, Any]
    by_agent: bool


def is_terminal(lc: Lifecycle, job: Job, now: float) -> bool:
    """True once the cleanup can never change again."""
    return lifecycle.status_at(lc, job.plan, now) in lc.terminal


def first_plan(plan: Plan, first_state: str) -> Plan:
    """A new cleanup's plan: it begins as `start_scheduled` when the agent scheduled it."""
    return plan if first_state == "start_requested" else replace(plan, first_stage=first_state)


def set_outcome(tenant: Tenant, lc: Lifecycle, job: Job, outcome: str, *,
                fail_fraction: float = 0.5, now: float | None = None) -> None:
    """Choose how a cleanup ends: completed, completed_with_errors, or failed part-way through.

    `fail_fraction` (0..1) is how much of the work is done when a `failed` cleanup fails. For QA
    code; call it before the cleanup ends (it changes the plan, not the past). `now` is the
    instant of the change (default: the job's creation).
    """
    if outcome not in OUTCOMES:
        raise BadRequest(f"Unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}.")
    if not 0.0 <= fail_fraction <= 1.0:
        raise BadRequest(f"fail_fraction must be between 0 and 1, got {fail_fraction}.")
    plan = job.plan
    if outcome == "failed":
        plan = replace(plan, outcome=None, fail_at=plan.instant_of(fail_fraction))
    else:
        plan = replace(plan, outcome=None if outcome == lc.completed else outcome, fail_at=None)
    jobs.change(tenant, job, job.created_at if now is None else now, plan=plan, touch=False)


def _bad_move(current: str, target: str) -> BadRequest:
    allowed = [*AGENT_MOVES.get(current, ())]
    if current != "stop_requested":
        allowed.append("stop_requested")
    return BadRequest(
        f"Invalid state transition: a cleanup that is {current} cannot become {target}; "
        f"allowed next states: {', '.join(allowed)}.",
        errors=[f"/state: {current} -> {target} is not allowed"],
    )


def _hold(lc: Lifecycle, plan: Plan, now: float) -> Plan:
    """The plan with its state at `now` kept until the agent reports the next one."""
    state = lifecycle.status_at(lc, plan, now)
    if state in lc.terminal:
        return plan
    if state == lc.stopping:
        return replace(plan, stop_for=HOLD, stopped_at=None)  # the agent must confirm: `stopped`
    # Not ended and not stopping: any interrupt or failure still to come was the simulation's.
    plan = replace(plan, fail_at=None, interrupt_at=None)
    k = lc.stages.index(state) if state in lc.stages else 0  # start_scheduled is stage 0
    if k == len(lc.stages) - 1:  # the work freezes where it is (a stall): nothing goes back
        if plan.stall_at is None or plan.stall_at > now:
            plan = replace(plan, stall_at=now)
        return plan
    return lifecycle.hold_from(plan, k)


def _reported(lc: Lifecycle, plan: Plan, target: str, now: float) -> Plan:
    """The plan after an agent reports `target`: that state holds from `now` on."""
    if target in lc.stages:  # queued / in_progress: the stage starts now and is held
        index = lc.stages.index(target)
        current = next((i for i, end in enumerate(plan.ends) if now < end), index - 1)
        ended = lifecycle.end_stage(plan, min(current, index - 1), now, then=index)
        held = lifecycle.hold_from(ended, index)
        return replace(held, stall_at=None, fail_at=None, interrupt_at=None)
    if target == lc.interrupted:  # stopped, after stop_requested
        return replace(plan, stopped_at=now)
    if target == lc.failed:
        return replace(plan, fail_at=now)
    # completed / completed_with_errors: the work ends now
    return replace(lifecycle.end_stage(plan, len(plan.ends) - 1, now), stall_at=None,
                   fail_at=None, outcome=None if target == lc.completed else target)


def move(lc: Lifecycle, plan: Plan, target: str, now: float) -> tuple[Plan, bool]:
    """Apply one `/state` value at `now`; returns (plan, reported by an agent)."""
    current = lifecycle.status_at(lc, plan, now)
    if current in lc.terminal:
        raise Conflict(TERMINAL_MESSAGE)
    if target == lc.stopping:  # the user's stop request
        if current == lc.stopping:
            return plan, False  # asked twice: nothing new
        # The simulated agent stops after Timing.stopping (a reporting agent is held, in update).
        return lifecycle.interrupt(plan, now), False
    if target == current and target in PROGRESS_STATES:
        return plan, True  # a progress report: the state stays
    if target not in AGENT_MOVES.get(current, ()):
        raise _bad_move(current, target)
    return _reported(lc, plan, target, now), True


def _int(value: Any, where: str, problems: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"{where}: must be an integer >= 0")


def _check_errors(value: Any, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append("/errors: must be an object {count, reason, diagnostics, list}")
        return
    if "count" in value:
        _int(value["count"], "/errors/count", problems)
    if not isinstance(value.get("reason", ""), str):
        problems.append("/errors/reason: must be a string")
    if not isinstance(value.get("diagnostics"), str | None):
        problems.append("/errors/diagnostics: must be a string or null")
    items = value.get("list", [])
    if not isinstance(items, list):
        problems.append("/errors/list: must be an array")
        return
    for i, item in enumerate(items):
        where = f"/errors/list/{i}"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be an object {{index, path, type, exception}}")
            continue
        _int(item.get("index", 0), f"{where}/index", problems)
        for key in ("path", "type"):
            if not isinstance(item.get(key, ""), str):
                problems.append(f"{where}/{key}: must be a string")
        if not isinstance(item.get("exception"), str | None):
            problems.append(f"{where}/exception: must be a string or null")


def _check_value(path: str, value: Any, states: Sequence[str], problems: list[str]) -> Any:
    """The stored form of one patched value; a problem is appended when it is unusable."""
    if path == "/state":
        if value not in states:
            problems.append(f"/state: must be one of {', '.join(states)}")
    elif path in ("/started_time", "/ended_time"):
        if value is None:
            return None
        try:
            return rs_time(parse_time(value))  # stored in the vendor's microsecond format
        except (TypeError, ValueError, AttributeError):
            problems.append(f"{path}: must be an ISO-8601 time or null, got {value!r}")
    elif path in ("/bytes_before", "/bytes_after"):
        _int(value, path, problems)
    elif path == "/snapshot_ids":
        if not isinstance(value, list):
            problems.append(f"{path}: must be an array of integers")
        else:
            for i, item in enumerate(value):
                _int(item, f"{path}/{i}", problems)
    elif path == "/errors":
        _check_errors(value, problems)
    else:
        problems.append(f"{path}: cannot be changed")
    return value


def parse_ops(body: Sequence[Mapping[str, Any]], states: Sequence[str]) -> list[PatchOp]:
    """Schema-checked JSON Patch → PatchOps with normalised values; 400 listing every problem."""
    problems: list[str] = []
    ops = [PatchOp(op["path"], _check_value(op["path"], op["value"], states, problems))
           for op in body]
    if problems:
        raise BadRequest("Validation failed.", errors=problems)
    return ops


def update(lc: Lifecycle, job: Job, ops: Sequence[PatchOp], now: float) -> Update:
    """What a PATCH does to a cleanup at `now`, computed without changing it (all or nothing)."""
    if is_terminal(lc, job, now):
        raise Conflict(TERMINAL_MESSAGE)
    plan, fields = job.plan, {}
    by_agent = "agent_reports" in job.marks
    for op in ops:
        if op.path == "/state":
            plan, reported = move(lc, plan, op.value, now)
            by_agent = by_agent or reported
        else:
            fields[op.path.lstrip("/")] = op.value
            by_agent = True  # result fields only ever come from the agent
    if by_agent:  # a reporting agent drives this cleanup: nothing moves until it reports again
        plan = _hold(lc, plan, now)
    return Update(plan, fields, by_agent)


def apply(tenant: Tenant, job: Job, update: Update, now: float) -> None:
    """Store an Update on the job."""
    marks = []
    if plan_errs(job.plan) and not plan_errs(update.plan):
        marks.append("errorful")  # errors shown so far stay
    if update.by_agent:
        marks.append("agent_reports")  # nothing moves until the agent reports again
    jobs.change(tenant, job, now, plan=update.plan, fields=update.fields, marks=marks)
