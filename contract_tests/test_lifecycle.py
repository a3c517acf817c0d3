"""Jobs over time: create → poll → terminal, `_interrupt`, `_start`, terminal jobs refuse changes,
writes show on the next read, deleted jobs are gone.

The same tests run against the mock (its clock is advanced, so they are fast) and against a
real server (real-time polling within --poll-budget; a job still running when the budget is
used up fails). A scenario goes on after a problem wherever it can, so that every later check
still gets its say (a stateless server breaks most of them), and the test lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from . import jobs
from .client import ApiClient
from .jobs import JobKind
from .model import load_spec
from .target import active
from .timeline import Timeline


def _kinds(where: Callable[[JobKind, Any], bool] = lambda kind, spec: True) -> list[Any]:
    """The spec's job types for which `where` holds, each marked with its API."""
    target = active().target
    spec = load_spec(target.spec_path)
    return [pytest.param(kind, marks=pytest.mark.api(kind.api), id=kind.kind)
            for kind in jobs.kinds(spec, target.project_id, target.agent_id).values()
            if where(kind, spec)]


def _resumable(kind: JobKind, spec: Any) -> bool:
    return kind.lifecycle.interrupted in kind.lifecycle.resumable


def _item_operation(kind: JobKind, spec: Any, method: str) -> Any:
    """The spec's `method` operation on one job of the kind (None when it has none)."""
    depth = kind.collection.count("/") + 1
    return next((item[method] for path, item in spec["paths"].items()
                 if path.startswith(kind.collection + "/{") and path.count("/") == depth
                 and method in item), None)


def _deletable(kind: JobKind, spec: Any) -> bool:
    return _item_operation(kind, spec, "delete") is not None


def _updatable(kind: JobKind, spec: Any) -> bool:
    """JSON:API updates of the user's fields (Rackspace PATCH only moves the state)."""
    op = _item_operation(kind, spec, "patch")
    return op is not None and "application/vnd.api+json" in op.get("requestBody", {}).get(
        "content", {})


@pytest.fixture
def api(kind: JobKind, request: pytest.FixtureRequest, fresh_queue: None) -> ApiClient:
    """The client of the kind's API."""
    return request.getfixturevalue("rs" if kind.api == "rackspace" else "cl")


@pytest.mark.parametrize("kind", _kinds())
def test_job_runs_to_terminal(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """A new job starts at the lifecycle's first stage, only moves forward, and ends."""
    lc = kind.lifecycle
    first = jobs.create(api, kind)
    api.check(lc.ranks.get(first.status or "", -1) == 0, (
        f"{first.label}: Received initial {lc.status_field} `{first.status}` / Documented "
        f"{[s for s, r in lc.ranks.items() if r == 0]}"))
    seen = jobs.poll(api, kind, first.id, timeline, jobs.terminal)
    if not jobs.terminal(seen[-1]):
        return  # poll noted it
    for _ in range(3):  # a terminal job never changes again (history checks every read)
        timeline.advance(60 if timeline.controlled else timeline.interval)
        jobs.read(api, kind, first.id)


@pytest.mark.parametrize("kind", _kinds())
def test_interrupt_running_job(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """Stopping a running job ends it interrupted (Rackspace: stopped), and it stays so."""
    lc = kind.lifecycle
    job = jobs.create(api, kind)
    api.check(job.status not in lc.terminal, (
        f"{job.label}: a new job has already ended. Received `{job.status}` in the create "
        f"response / Documented a job starts {[s for s, r in lc.ranks.items() if r == 0]}"))
    if timeline.controlled:
        job = jobs.poll(api, kind, job.id, timeline, jobs.running)[-1]
    # Without clock control the stop request follows the create at once: a job that ends before
    # it arrives leaves this check without a verdict, which fails below rather than skipping.
    resp = jobs.interrupt(api, kind, job.id)
    if kind.api == "rackspace":
        api.expect(resp, 200, 202, 204)
    elif api.expect(resp, 200):
        got = jobs.snapshot(api, kind, resp).status
        api.check(got == lc.interrupted, (
            f"{job.label}: `_interrupt` on `{job.status}`. Received `{got}` / Documented "
            f"`{lc.interrupted}` in the PATCH response"))
    seen = jobs.poll(api, kind, job.id, timeline, jobs.terminal)
    api.check(seen[-1].status == lc.interrupted, (
        f"{job.label}: Received `{seen[-1].status}` after a stop request / Documented "
        f"`{lc.interrupted}`"))
    if jobs.terminal(seen[-1]):
        timeline.advance(3600 if timeline.controlled else timeline.interval)
        jobs.read(api, kind, job.id)  # the history rule: terminal stays terminal


@pytest.mark.parametrize("kind", _kinds(_resumable))
def test_start_resumes_interrupted_job(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """`_start` on an interrupted job (exports) resumes it, and it runs to an end again."""
    lc = kind.lifecycle
    job = jobs.create(api, kind)
    if not api.expect(jobs.interrupt(api, kind, job.id), 200):
        return
    resp = jobs.resume(api, kind, job.id)
    if api.expect(resp, 200):
        resumed = jobs.snapshot(api, kind, resp)
        api.check(resumed.status not in lc.terminal, (
            f"{job.label}: Received `{resumed.status}` after `_start` / Documented a running "
            f"status"))
    jobs.poll(api, kind, job.id, timeline, jobs.terminal)


@pytest.mark.parametrize("kind", _kinds())
def test_terminal_job_rejects_changes(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """A stop request on a finished job is refused (Rackspace: 409) and changes nothing."""
    lc = kind.lifecycle
    job = jobs.create(api, kind)
    final = jobs.poll(api, kind, job.id, timeline, jobs.terminal)[-1]
    if not jobs.terminal(final):
        return  # poll noted that it never ended: nothing terminal to change
    resp = jobs.interrupt(api, kind, job.id)  # the client's rules refuse a changed status
    if kind.api == "rackspace":
        api.expect(resp, 409)  # notes: rackspace_cleanups.md §4
    after = jobs.read(api, kind, job.id).status
    api.check(after == final.status, (
        f"{job.label}: a stop request changed a terminal job. Received `{after}` after "
        f"`{final.status}` / Documented {sorted(lc.terminal)} never change"))


@pytest.mark.parametrize("kind", _kinds(_updatable))
def test_update_shows_on_the_next_read(kind: JobKind, api: ApiClient) -> None:
    """A PATCH of the user's fields answers with them, and the next GET shows them too."""
    job = jobs.create(api, kind)
    body = {"data": {"type": kind.kind, "id": job.id, "attributes": {
        "reference": f"contract-{jobs.RUN}-updated", "metadata": {"contract": jobs.RUN}}}}
    api.expect(api.patch(kind.item(job.id), body), 200)  # the client's rules read it back


@pytest.mark.parametrize("kind", _kinds(_deletable))
def test_created_job_is_retrievable_and_deleted_is_gone(
        kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """The created job can be read back; once deleted it answers 404."""
    job = jobs.create(api, kind)  # the client follows the 201's links (retrievable rule)
    ended = jobs.terminal(jobs.poll(api, kind, job.id, timeline, jobs.terminal)[-1])
    resp = api.delete(kind.item(job.id))  # the client GETs it again (deleted rule)
    if ended:
        api.expect(resp, 204)
    if 200 <= resp.status_code < 300:
        api.expect(api.get(kind.item(job.id)), 404)
