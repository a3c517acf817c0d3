"""Registered Schemathesis checks: what only a job API can get wrong, beyond status and schema.

Each check is named for the property it asserts and fails with "Received … / Documented …".
The logic lives in rules.py, invariants.py and followups.py (pure, unit-tested); this module
only adapts it to Schemathesis. Importing it registers the checks (conftest does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import schemathesis

from . import list_rules, rules
from .exchange import Exchange
from .followups import deleted_problems, retrievable_problems, written_problems
from .invariants import JobHistory
from .model import Job, dialect

if TYPE_CHECKING:
    from schemathesis import Case, CheckContext, Response


def _fail(problems: list[str]) -> None:
    if problems:
        raise AssertionError("\n".join(problems))


Rule = Callable[[Exchange], list[str]]


def _only(api: str, rule: Rule) -> Rule:
    def scoped(ex: Exchange) -> list[str]:
        return rule(ex) if dialect(ex.path) == api else []
    return scoped


# name → (rule, what it asserts). Each is registered as a Schemathesis check of that name, and
# client.ApiClient holds every response of the explicit tests to the same rules.
PER_RESPONSE: dict[str, tuple[Rule, str]] = {
    "jsonapi_media_type": (_only("commercelayer", rules.media_type_problems),
                           "Commerce Layer responses use application/vnd.api+json (or what the "
                           "spec declares)."),
    "rackspace_media_type": (_only("rackspace", rules.media_type_problems),
                             "Rackspace responses use application/json."),
    "error_shape": (rules.error_shape_problems, "Every 4xx/5xx carries the API's own error body."),
    "status_in_enum": (rules.job_status_problems,
                       "Every job's status is one the spec and its lifecycle know."),
    "timestamps_match_status": (rules.job_timestamp_problems,
                                "started/completed/interrupted timestamps are set exactly when "
                                "the status says so."),
    "counters_within_totals": (rules.job_counter_problems,
                               "Counters never exceed the job's total; progress stays in 0–100."),
    "triggers_take_effect": (rules.trigger_problems,
                             "An accepted `_interrupt` answers interrupted; an accepted `_start` "
                             "reopens the job."),
    "page_links_consistent": (list_rules.paging_problems,
                              "record_count, page_count, the page's size and its links agree "
                              "(markers for Rackspace)."),
    "lists_sorted_as_asked": (list_rules.sort_problems, "`sort=a,-b`: the page is in that order."),
    "lists_filtered_as_asked": (list_rules.filter_problems,
                                "`filter[q][…]` equality, inclusion and nullness: every listed "
                                "item matches."),
    "credentials_echoed": (rules.credential_problems,
                           "meta.mode and meta.organization_id are the token's environment and "
                           "organization."),
    "written_fields_read_back": (written_problems,
                                 "An accepted PATCH answers with what it wrote, and the next GET "
                                 "shows it."),
    "created_job_is_retrievable": (retrievable_problems,
                                   "After a 201, the GETs the spec links from it answer 200 with "
                                   "the same job."),
    "deleted_job_is_gone": (deleted_problems, "After a successful DELETE, the resource answers 404."),
}


def _register(name: str, rule: Rule, doc: str) -> None:
    def check(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        _fail(rule(Exchange.from_case(case, response)))
        return None

    check.__name__ = check.__qualname__ = name
    check.__doc__ = doc
    schemathesis.check(check)


for _name, (_rule, _doc) in PER_RESPONSE.items():
    _register(_name, _rule, _doc)


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
