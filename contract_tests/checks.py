"""Registered Schemathesis checks: what only a job API can get wrong, beyond status and schema.

Each check is named for the property it asserts and fails with "Received … / Documented …".
The logic lives in rules.py, invariants.py and followups.py (pure, unit-tested); this module
only adapts it to Schemathesis. Importing it registers the checks (conftest does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import schemathesis

from . import rules
from .exchange import Exchange
from .followups import deleted_problems, retrievable_problems, written_problems
from .invariants import JobHistory
from .model import Job, dialect

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response


def _fail(problems: list[str]) -> None:
    if problems:
        raise AssertionError("\n".join(problems))


@schemathesis.check
def jsonapi_media_type(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Commerce Layer responses use application/vnd.api+json (or what the spec declares)."""
    ex = Exchange.from_case(case, response)
    if dialect(ex.path) == "commercelayer":
        _fail(rules.media_type_problems(ex))
    return None


@schemathesis.check
def rackspace_media_type(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Rackspace responses use application/json."""
    ex = Exchange.from_case(case, response)
    if dialect(ex.path) == "rackspace":
        _fail(rules.media_type_problems(ex))
    return None


@schemathesis.check
def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx carries the API's own error body."""
    _fail(rules.error_shape_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def status_in_enum(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every job's status is one the spec and its lifecycle know."""
    _fail(rules.job_status_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def timestamps_match_status(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """started/completed/interrupted timestamps are set exactly when the status says so."""
    _fail(rules.job_timestamp_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def counters_within_totals(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Counters never exceed the job's total; progress stays within 0–100."""
    _fail(rules.job_counter_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def triggers_take_effect(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An accepted `_interrupt` answers interrupted; an accepted `_start` reopens the job."""
    _fail(rules.trigger_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def page_links_consistent(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """record_count, page_count, the page's size and its links agree (markers for Rackspace)."""
    _fail(rules.paging_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def lists_sorted_as_asked(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`sort=a,-b`: the page is in that order."""
    _fail(rules.sort_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def lists_filtered_as_asked(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`filter[q][…]` equality, inclusion and nullness: every listed item matches."""
    _fail(rules.filter_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def credentials_echoed(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """meta.mode and meta.organization_id are the token's environment and organization."""
    _fail(rules.credential_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def written_fields_read_back(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An accepted PATCH answers with what it wrote, and the next GET shows it."""
    _fail(written_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def created_job_is_retrievable(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """After a 201, the GETs the spec links from it answer 200 with the same job."""
    _fail(retrievable_problems(Exchange.from_case(case, response)))
    return None


@schemathesis.check
def deleted_job_is_gone(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """After a successful DELETE, the resource answers 404."""
    _fail(deleted_problems(Exchange.from_case(case, response)))
    return None


def track(history: JobHistory, ex: Exchange) -> list[str]:
    """Feed one exchange to a history; returns transition problems (status, counters, times)."""
    scope = ex.scope()
    if 200 <= ex.status < 300 and (ex.trigger() == "_start" or ex.method == "DELETE"):
        target = ex.path.rstrip("/").rsplit("/", 1)[-1]
        for job in list(history.last.values()):
            if job.id == target:
                history.forget(scope, job.kind, job.id)  # reopened or gone: a fresh start
    problems: list[str] = []
    for job in ex.jobs():
        problems += history.observe(scope, job)
    return problems


@schemathesis.check
class StatusNeverRegresses:
    """Across responses: status only moves forward, terminal never changes, counters never drop."""

    def __init__(self) -> None:
        self.history = JobHistory()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        _fail(track(self.history, Exchange.from_case(case, response)))
        return None


def _seen(history: JobHistory, scope: str, job_id: str) -> Job | None:
    return next((j for (s, _, i), j in history.last.items() if s == scope and i == job_id), None)


def terminal_change_problems(history: JobHistory, ex: Exchange) -> list[str]:
    """A change request on a job last seen terminal is refused (Rackspace: 409)."""
    if ex.method != "PATCH" or ex.template is None:
        return []
    prior = _seen(history, ex.scope(), ex.path.rstrip("/").rsplit("/", 1)[-1])
    if prior is None or prior.status not in prior.lifecycle.terminal:
        return []
    lc, trigger = prior.lifecycle, ex.trigger()
    if dialect(ex.path) == "rackspace":
        # notes: rackspace_cleanups.md §4 — 409 once the cleanup is terminal
        if 200 <= ex.status < 300:
            return [f"{prior.label}: PATCH accepted on a terminal cleanup. Received {ex.status} "
                    f"with state `{prior.status}` / Documented 409 Conflict"]
        return []
    if trigger is None or (trigger == "_start" and prior.status in lc.resumable):
        return []
    if not 200 <= ex.status < 300:
        return []
    now = [j.status for j in ex.jobs() if j.id == prior.id and j.status is not None]
    if now and now[0] != prior.status:
        return [f"{prior.label}: `{trigger}` changed a terminal job. Received "
                f"{lc.status_field}=`{now[0]}` after `{prior.status}` / Documented: refused "
                f"(4xx) or left unchanged"]
    return []


@schemathesis.check
class TerminalJobRejectsChanges:
    """A trigger sent to a finished job is refused or has no effect."""

    def __init__(self) -> None:
        self.history = JobHistory()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        ex = Exchange.from_case(case, response)
        problems = terminal_change_problems(self.history, ex)
        track(self.history, ex)
        _fail(problems)
        return None


@schemathesis.check
class CredentialsAccepted:
    """A run where every authenticated request got 401/403 is a failure, not a pass (P4)."""

    def __init__(self) -> None:
        self.accepted: set[str] = set()
        self.refused: set[str] = set()

    def after_response(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        op: Any = case.operation.definition.raw if hasattr(case.operation, "definition") else {}
        if op.get("security") == []:
            return None
        label = case.operation.label
        if 200 <= response.status_code < 300:
            self.accepted.add(label)
        elif response.status_code in (401, 403):
            self.refused.add(label)
        return None

    def after_run(self, ctx: CheckContext) -> None:
        if self.refused and not self.accepted:
            raise AssertionError(
                f"Every authenticated request was refused. Received only 401/403 on "
                f"{len(self.refused)} operations / Documented 2xx with valid credentials: "
                f"check --token / --client-id / --rackspace-token")
