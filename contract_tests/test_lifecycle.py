"""Jobs over time: create → poll → terminal, `_interrupt`, `_start`, terminal jobs refuse changes.

The same tests run against the mock (its clock is advanced, so they are fast) and against a
real server (real-time polling within --poll-budget; a job still running when the budget is
used up skips, after every invariant held on what was seen).
"""

from __future__ import annotations

import pytest

from . import jobs
from .client import ApiClient, expect
from .jobs import JobKind
from .timeline import Timeline

KINDS = ("imports", "exports", "cleanups", "rackspace_cleanups")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest, job_kinds: dict[str, JobKind]) -> JobKind:
    """Each job type of the spec."""
    if request.param not in job_kinds:
        pytest.skip(f"the spec has no {request.param}")
    return job_kinds[request.param]


@pytest.fixture
def api(kind: JobKind, request: pytest.FixtureRequest, fresh_queue: None) -> ApiClient:
    """The client of the kind's API."""
    return request.getfixturevalue("rs" if kind.api == "rackspace" else "cl")


def test_job_runs_to_terminal(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """A new job starts at the lifecycle's first stage, only moves forward, and ends."""
    lc = kind.lifecycle
    first = jobs.create(api, kind)
    assert lc.ranks.get(first.status or "", -1) == 0, (
        f"{first.label}: Received initial {lc.status_field} `{first.status}` / Documented "
        f"{[s for s, r in lc.ranks.items() if r == 0]}")
    seen = jobs.poll(api, kind, first.id, timeline, jobs.terminal)
    final = seen[-1].status
    for _ in range(3):  # a terminal job never changes again (history checks every read)
        timeline.advance(60 if timeline.controlled else timeline.interval)
        assert jobs.read(api, kind, first.id).status == final


def test_interrupt_running_job(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """Stopping a running job ends it interrupted (Rackspace: stopped), and it stays so."""
    lc = kind.lifecycle
    job = jobs.create(api, kind)
    if timeline.controlled:
        job = jobs.poll(api, kind, job.id, timeline, jobs.running)[-1]
    if job.status in lc.terminal:
        pytest.skip(f"{job.label} finished before it could be interrupted")
    resp = jobs.interrupt(api, kind, job.id)
    if kind.api == "rackspace":
        expect(resp, 200, 202, 204)
    else:
        expect(resp, 200)
        got = jobs.snapshot(api, kind, resp).status
        assert got == lc.interrupted, (
            f"{job.label}: `_interrupt` on `{job.status}`. Received `{got}` / Documented "
            f"`{lc.interrupted}` in the PATCH response")
    seen = jobs.poll(api, kind, job.id, timeline, jobs.terminal)
    assert seen[-1].status == lc.interrupted, (
        f"{job.label}: Received `{seen[-1].status}` after a stop request / Documented "
        f"`{lc.interrupted}`")
    timeline.advance(3600 if timeline.controlled else timeline.interval)
    assert jobs.read(api, kind, job.id).status == lc.interrupted


def test_start_resumes_interrupted_job(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """`_start` on an interrupted job (exports) resumes it, and it runs to an end again."""
    lc = kind.lifecycle
    if lc.interrupted not in lc.resumable:
        pytest.skip(f"{kind.kind} cannot be resumed (no `_start` in the spec)")
    job = jobs.create(api, kind)
    expect(jobs.interrupt(api, kind, job.id), 200)
    resp = expect(jobs.resume(api, kind, job.id), 200)
    resumed = jobs.snapshot(api, kind, resp)
    assert resumed.status not in lc.terminal, (
        f"{job.label}: Received `{resumed.status}` after `_start` / Documented a running status")
    jobs.poll(api, kind, job.id, timeline, jobs.terminal)


def test_terminal_job_rejects_changes(kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """A stop request on a finished job is refused (Rackspace: 409) and changes nothing."""
    lc = kind.lifecycle
    job = jobs.create(api, kind)
    final = jobs.poll(api, kind, job.id, timeline, jobs.terminal)[-1]
    resp = jobs.interrupt(api, kind, job.id)  # the client's rules refuse a changed status
    if kind.api == "rackspace":
        expect(resp, 409)  # notes: rackspace_cleanups.md §4
    assert jobs.read(api, kind, job.id).status == final.status, (
        f"{job.label}: a stop request changed a terminal job / Documented {sorted(lc.terminal)} "
        f"never change")


def test_created_job_is_retrievable_and_deleted_is_gone(
        kind: JobKind, api: ApiClient, timeline: Timeline) -> None:
    """The created job can be read back; once deleted it answers 404."""
    if kind.api == "rackspace":
        pytest.skip("Rackspace cleanups have no DELETE")  # notes: rackspace_cleanups.md §4
    job = jobs.create(api, kind)  # the client follows the 201's links (retrievable rule)
    jobs.poll(api, kind, job.id, timeline, jobs.terminal)  # a running job may not be deleted
    expect(api.delete(kind.item(job.id)), 204)  # the client GETs it again (deleted rule)
    expect(api.get(kind.item(job.id)), 404)
