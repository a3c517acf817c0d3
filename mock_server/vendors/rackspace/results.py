"""What a Rackspace cleanup shows as it runs: bytes, snapshot ids, errors and events.

Every number is derived from a hash of (seed, cleanup id) and the share of the work done, so the
same seed gives the same cleanup on every run and the values only move forward with the clock.
An agent's reported values (PATCH) replace the derived ones. No aiohttp, no clock reads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.lifecycle import Lifecycle, Plan, View
from ...domain.store import Job

# notes: rackspace_cleanups.md §5 — the documented error item; further kinds are inferred
# (a cleanup validates the vault, repacks and deletes bundles: CONC in §0).
ERROR_KINDS: Mapping[str, str] = {
    "file_missing_blocks": (
        "A vault validation determined that the specified file is missing blocks."
    ),
    "bundle_delete_failed": "An expired bundle could not be deleted from the vault.",
    "bundle_repack_failed": "A bundle holding expired data could not be repacked.",
}
# Reason codes (as an agent sends them, §4) → the sentence GET shows (§0, §5). The first one is
# documented; the others are inferred in the same style.
REASONS: Mapping[str, str] = {
    "error_deleting_object": "Error deleting object. Server returned HTTP 503",
    "error_reading_object": "Error reading object. Server returned HTTP 500",
    "vault_validation_failed": "Vault validation failed. The vault database is inconsistent",
}
_DIRS = ("/var/www/html/log", "/srv/backup/data", "/etc/nginx", "/srv/app/uploads",
         "/opt/db/dumps")
_FILES = ("st_808_playlist.txt", "access.log.3", "site.conf", "avatar_1201.png", "nightly.sql.gz")
# notes: rackspace_cleanups.md §6 — event type per transition; there is no completed_with_errors
# event (it reports as cleanup_completed) and no scheduled one (start_scheduled reports as a
# start request) — both inferred, as the docs show no others.
EVENT_TYPES: Mapping[str, str] = {
    "start_requested": "cleanup_start_request",
    "start_scheduled": "cleanup_start_request",
    "queued": "cleanup_queued",
    "in_progress": "cleanup_in_progress",
    "completed": "cleanup_completed",
    "completed_with_errors": "cleanup_completed",
    "failed": "cleanup_failed",
    "stop_requested": "cleanup_stop_request",
    "stopped": "cleanup_stopped",
}
_REQUESTS = ("cleanup_start_request", "cleanup_stop_request")  # the ones carrying a request_id


def _hash(seed: int, job_id: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{job_id}/{salt}".encode()).digest()[:8], "big")


def request_id(seed: int, job_id: str, salt: str) -> str:
    """A stable UUID-shaped request id."""
    h = hashlib.sha256(f"{seed}/{job_id}/request/{salt}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True, slots=True)
class CleanupError:
    """One error item of GET .../errors."""

    index: int
    path: str
    type: str
    description: str
    exception: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The item as the API shows it."""
        return {"index": self.index, "path": self.path, "type": self.type,
                "description": self.description, "exception": self.exception}


@dataclass(frozen=True, slots=True)
class Errors:
    """The errors a cleanup has met so far."""

    count: int
    reason: str
    diagnostics: str | None
    items: tuple[CleanupError, ...]


@dataclass(frozen=True, slots=True)
class Results:
    """The result fields of a cleanup at one instant."""

    bytes_before: int
    bytes_after: int
    snapshot_ids: list[int]
    errors: Errors


def _fraction(lc: Lifecycle, seen: View) -> float:
    """Share of the work done (0..1); nothing before the working stage begins."""
    if seen.started_at is None:
        return 0.0
    return max(0.0, min(1.0, seen.progress / 100.0))


def plan_errs(plan: Plan) -> bool:
    """True when a plan's fate (completed_with_errors, or a failure) comes with errors."""
    return plan.outcome == "completed_with_errors" or plan.fail_at is not None


def _will_err(lc: Lifecycle, job: Job, seen: View) -> bool:
    # An agent's report may rewrite the plan; errors already shown stay ("errorful", set then).
    return (plan_errs(job.plan) or "errorful" in job.marks
            or seen.status in ("completed_with_errors", lc.failed))


def derived_errors(seed: int, lc: Lifecycle, job: Job, seen: View) -> Errors:
    """Errors the simulated agent has met by now (none for a clean `completed` plan)."""
    items: list[CleanupError] = []
    frac = _fraction(lc, seen)
    if _will_err(lc, job, seen):
        failed = job.plan.fail_at is not None
        n = 1 + _hash(seed, job.id, "errors") % 3
        for i in range(n):
            h = _hash(seed, job.id, f"error/{i}")
            at = (i + 1) / (n + 1)  # spread over the work, so they appear as it runs
            fatal = failed and i == n - 1
            due = seen.status == lc.failed if fatal else (
                frac >= at or seen.status == "completed_with_errors")
            if not due:
                continue
            kind = list(ERROR_KINDS)[h % len(ERROR_KINDS)]
            items.append(CleanupError(
                index=1 + h % 500,
                path=f"{_DIRS[(h >> 8) % len(_DIRS)]}/{_FILES[(h >> 16) % len(_FILES)]}",
                type=kind,
                description=ERROR_KINDS[kind],
            ))
    reason = ""
    if items:
        reason = list(REASONS.values())[_hash(seed, job.id, "reason") % len(REASONS)]
    # notes: rackspace_cleanups.md §0, §9 — diagnostics is "" right after POST and null later
    return Errors(len(items), reason, "" if seen.started_at is None else None, tuple(items))


def _reported_errors(value: Mapping[str, Any]) -> Errors:
    """An agent's /errors value as GET shows it: reason code → sentence, descriptions added."""
    items = tuple(
        CleanupError(
            index=int(item.get("index", 0)),
            path=str(item.get("path", "")),
            type=str(item.get("type", "")),
            description=str(item.get("description") or ERROR_KINDS.get(
                str(item.get("type")), f"The agent reported a {item.get('type')} error.")),
            exception=item.get("exception"),
        )
        for item in value.get("list", [])
    )
    code = str(value.get("reason", ""))
    reason = REASONS.get(code, code)
    return Errors(int(value.get("count", len(items))), reason, value.get("diagnostics"), items)


def results(seed: int, lc: Lifecycle, job: Job, seen: View) -> Results:
    """bytes, snapshot ids and errors at the instant of `seen`; reported values win."""
    frac = _fraction(lc, seen)
    started = seen.started_at is not None
    before = (1 << 28) + _hash(seed, job.id, "bytes") % ((1 << 36) - (1 << 28))  # 256 MiB..64 GiB
    reclaim = before * (1 + _hash(seed, job.id, "reclaim") % 30) // 100  # 1–30 % expired
    after = before - math.floor(reclaim * frac)
    n = 1 + _hash(seed, job.id, "snapshots") % 5
    first = 1 + _hash(seed, job.id, "snapshot0") % 90
    step = 1 + _hash(seed, job.id, "step") % 40
    snapshots = [first + i * step for i in range(math.ceil(n * frac - 1e-9))]
    fields = job.fields
    errors = (_reported_errors(fields["errors"]) if isinstance(fields.get("errors"), Mapping)
              else derived_errors(seed, lc, job, seen))
    return Results(
        bytes_before=fields.get("bytes_before", before if started else 0),
        bytes_after=fields.get("bytes_after", after if started else 0),
        snapshot_ids=list(fields.get("snapshot_ids", snapshots if started else [])),
        errors=errors,
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One transition of a cleanup as an event (ids are numeric, increasing with time)."""

    id: int
    at: float
    event: str
    state: str


def events(seen: View) -> list[Event]:
    """One event per transition, oldest first."""
    out: list[Event] = []
    for i, (state, at) in enumerate(seen.transitions):
        # milliseconds × 100 + position: unique per cleanup and ordered like the transitions
        out.append(Event(round(at * 1000) * 100 + i, at, EVENT_TYPES[state], state))
    return out


def needs_request_id(event: Event) -> bool:
    """True for the events a user's request caused (notes: rackspace_cleanups.md §6)."""
    return event.event in _REQUESTS
