"""Job invariants, pure: what one snapshot must satisfy, and what may change between two."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .model import Job


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def status_problems(job: Job) -> list[str]:
    """The status must be one the lifecycle (and so the spec's enum) knows."""
    lc, status = job.lifecycle, job.status
    if status is None or status in lc.statuses:
        return []
    return [f"{job.label}: unknown {lc.status_field}. Received `{status}` / "
            f"Documented {sorted(lc.statuses)}"]


def timestamp_problems(job: Job) -> list[str]:
    """Timestamps set exactly when the status says so, and in order (created ≤ started ≤ ended)."""
    lc, status, attrs = job.lifecycle, job.status, job.attrs
    out: list[str] = []
    if status is not None:
        for name, statuses in lc.must_be_set.items():
            if status in statuses and name in attrs and attrs[name] is None:
                out.append(f"{job.label}: `{name}` missing. Received {name}=null with "
                           f"{lc.status_field}=`{status}` / Documented: set when {sorted(statuses)}")
        for name, statuses in lc.must_be_null.items():
            if status in statuses and attrs.get(name) is not None:
                out.append(f"{job.label}: `{name}` set too early. Received {name}="
                           f"{attrs[name]!r} with {lc.status_field}=`{status}` / "
                           f"Documented: null when {sorted(statuses)}")
    for earlier, later in lc.ordered:
        a, b = _time(attrs.get(earlier)), _time(attrs.get(later))
        if a is not None and b is not None and b < a:
            out.append(f"{job.label}: timestamps out of order. Received {earlier}="
                       f"{attrs[earlier]} after {later}={attrs[later]} / "
                       f"Documented: {earlier} ≤ {later}")
    return out


def counter_problems(job: Job) -> list[str]:
    """Counters are ≥ 0 and never exceed the job's total; progress is a 0–100 percentage."""
    lc, attrs = job.lifecycle, job.attrs
    out: list[str] = []
    total = next((_number(attrs.get(t)) for t in lc.total if _number(attrs.get(t)) is not None),
                 None)
    total_name = next((t for t in lc.total if _number(attrs.get(t)) is not None), "total")
    for name in lc.counters:
        value = _number(attrs.get(name))
        if value is None:
            continue
        if value < 0:
            out.append(f"{job.label}: negative counter. Received {name}={attrs[name]} / "
                       f"Documented: a count ≥ 0")
        elif total is not None and value > total:
            out.append(f"{job.label}: counter over total. Received {name}={attrs[name]} with "
                       f"{total_name}={attrs[total_name]} / Documented: {name} ≤ {total_name}")
    values = [_number(attrs.get(n)) for n in lc.summed]
    if total is not None and len(lc.summed) > 1 and all(v is not None for v in values):
        summed = sum(v for v in values if v is not None)
        if summed > total:
            names = " + ".join(lc.summed)
            out.append(f"{job.label}: counters over total. Received {names}={summed:g} with "
                       f"{total_name}={attrs[total_name]} / Documented: {names} ≤ {total_name}")
    if lc.progress is not None:
        progress = _number(attrs.get(lc.progress))
        if progress is not None and not 0 <= progress <= 100:
            out.append(f"{job.label}: progress out of range. Received {lc.progress}="
                       f"{attrs[lc.progress]} / Documented: 0–100")
    return out


def snapshot_problems(job: Job) -> list[str]:
    """Everything one response can show wrong about a job."""
    return status_problems(job) + timestamp_problems(job) + counter_problems(job)


def transition_problems(before: Job, after: Job) -> list[str]:
    """What must hold between two observations of the same job, `before` seen first."""
    lc = after.lifecycle
    out: list[str] = []
    old, new = before.status, after.status
    if old is not None and new is not None and old != new:
        if old in lc.terminal:
            out.append(f"{after.label}: terminal {lc.status_field} changed. Received `{new}` "
                       f"after `{old}` / Documented: {sorted(lc.terminal)} never change")
        elif old in lc.ranks and new in lc.ranks and lc.ranks[new] < lc.ranks[old]:
            out.append(f"{after.label}: {lc.status_field} moved backwards. Received `{new}` "
                       f"after `{old}` / Documented order: {lc.describe()}")
    for name in (*lc.counters, *((lc.progress,) if lc.progress else ())):
        a, b = _number(before.attrs.get(name)), _number(after.attrs.get(name))
        if a is not None and b is not None and b < a:
            out.append(f"{after.label}: `{name}` decreased. Received {after.attrs[name]} after "
                       f"{before.attrs[name]} / Documented: never decreases")
    for name in ("created_at", *lc.must_be_set):
        a, b = before.attrs.get(name), after.attrs.get(name)
        if a is not None and name in after.attrs and b != a:
            out.append(f"{after.label}: `{name}` changed once set. Received {b!r} after {a!r} / "
                       f"Documented: a timestamp, once set, stays")
    return out


@dataclass
class JobHistory:
    """The last snapshot of every job seen, keyed by (scope, kind, id); finds bad transitions."""

    last: dict[tuple[str, str, str], Job] = field(default_factory=dict)

    def observe(self, scope: str, job: Job) -> list[str]:
        """Record a snapshot; returns the transition problems against the previous one."""
        key = (scope, job.kind, job.id)
        before = self.last.get(key)
        problems = transition_problems(before, job) if before is not None else []
        merged = dict(before.attrs) if before is not None else {}
        merged.update(job.attrs)  # sparse fieldsets: keep what earlier responses showed
        self.last[key] = Job(job.kind, job.id, merged, job.lifecycle)
        return problems

    def seen(self, scope: str, kind: str, job_id: str) -> Job | None:
        """The last snapshot of a job, if any."""
        return self.last.get((scope, kind, job_id))

    def forget(self, scope: str, kind: str, job_id: str) -> None:
        """Start afresh for a job (after `_start` reopened it, or after it was deleted)."""
        self.last.pop((scope, kind, job_id), None)
