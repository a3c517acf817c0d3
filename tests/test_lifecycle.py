"""Lifecycle tables: status and counters as a pure function of (plan, now)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.lifecycle import (
    LIFECYCLES,
    Plan,
    interrupt,
    release,
    status_at,
    transitions,
    view,
)

CL = LIFECYCLES["exports"]
RS = LIFECYCLES["rackspace_cleanups"]
PLAN = Plan.timed(100.0, (1.0, 10.0), total=50)


@pytest.mark.parametrize(
    ("now", "status", "processed", "started", "ended"),
    [
        (100.0, "pending", 0, None, None),
        (100.9, "pending", 0, None, None),
        (101.0, "in_progress", 0, 101.0, None),
        (106.0, "in_progress", 25, 101.0, None),
        (110.99, "in_progress", 49, 101.0, None),
        (111.0, "completed", 50, 101.0, 111.0),
        (100000.0, "completed", 50, 101.0, 111.0),
    ],
)
def test_default_plan_over_time(now: float, status: str, processed: int, started, ended) -> None:  # type: ignore[no-untyped-def]
    seen = view(CL, PLAN, now)
    got = (seen.status, seen.processed, seen.started_at, seen.ended_at)
    assert got == (status, processed, started, ended)
    assert 0 <= seen.progress <= 100


def test_interrupt_freezes_counters_and_is_terminal() -> None:
    plan = interrupt(PLAN, 106.0)
    later = view(CL, plan, 500.0)
    assert later.status == "interrupted"
    assert later.processed == 25 and later.ended_at == 106.0
    assert [s for s, _ in later.transitions] == ["pending", "in_progress", "interrupted"]


def test_interrupt_while_pending_never_starts() -> None:
    seen = view(CL, interrupt(PLAN, 100.5), 200.0)
    assert seen.status == "interrupted" and seen.started_at is None and seen.processed == 0


def test_fail_at_progress_point() -> None:
    plan = replace(PLAN, fail_at=PLAN.instant_of(0.3))
    assert status_at(CL, plan, 103.0) == "in_progress"
    seen = view(CL, plan, 1000.0)
    assert seen.status == "failed" and seen.processed == 15


def test_stall_then_release_resumes_where_it_froze() -> None:
    plan = replace(PLAN, stall_at=106.0)
    assert view(CL, plan, 10_000.0).status == "in_progress"
    assert view(CL, plan, 10_000.0).processed == 25
    resumed = release(plan, 10_000.0)
    assert view(CL, resumed, 10_002.5).processed == 37
    assert view(CL, resumed, 10_005.0).status == "completed"


def test_rackspace_stop_passes_through_stop_requested() -> None:
    plan = Plan.timed(0.0, (1.0, 1.0, 5.0), stop_for=2.0)
    stopped = interrupt(plan, 3.0)
    assert status_at(RS, stopped, 2.5) == "in_progress"
    assert status_at(RS, stopped, 4.0) == "stop_requested"
    assert status_at(RS, stopped, 5.0) == "stopped"
    names = [s for s, _ in transitions(RS, stopped, 10.0)]
    assert names == ["start_requested", "queued", "in_progress", "stop_requested", "stopped"]


def test_rackspace_outcome_and_first_stage() -> None:
    plan = Plan.timed(0.0, (1.0, 1.0, 5.0), outcome="completed_with_errors",
                first_stage="start_scheduled")
    assert status_at(RS, plan, 0.5) == "start_scheduled"
    assert status_at(RS, plan, 7.0) == "completed_with_errors"


ORDER = {s: i for i, s in enumerate(CL.statuses)}


@given(
    st.lists(st.floats(min_value=0, max_value=50), min_size=2, max_size=20),
    st.one_of(st.none(), st.floats(min_value=95, max_value=130)),
    st.one_of(st.none(), st.floats(min_value=95, max_value=130)),
)
def test_status_and_counters_never_go_back(times: list[float], cut: float | None, fail: float | None) -> None:
    plan = replace(PLAN, interrupt_at=cut, fail_at=fail)
    views = [view(CL, plan, 95.0 + t) for t in sorted(times)]
    for before, after in zip(views, views[1:], strict=False):
        assert after.processed >= before.processed
        assert after.progress >= before.progress
        if before.status in CL.terminal:
            assert after.status == before.status
        else:
            moved_on = ORDER[after.status] > ORDER[before.status] or after.status in CL.terminal
            assert after.status == before.status or moved_on
        assert after.processed <= plan.total


def test_zero_length_work_still_started() -> None:
    plan = Plan.timed(0.0, (1.0, 0.0))
    assert [s for s, _ in transitions(CL, plan, 5.0)] == ["pending", "in_progress", "completed"]
    assert view(CL, plan, 5.0).started_at == 1.0
    # an interrupt at the instant a stage begins keeps that stage: a client may have seen it
    cut = interrupt(Plan.timed(0.0, (1.0, 2.0)), 1.0)
    assert status_at(CL, Plan.timed(0.0, (1.0, 2.0)), 1.0) == "in_progress"
    assert [s for s, _ in transitions(CL, cut, 5.0)] == ["pending", "in_progress", "interrupted"]
    assert status_at(CL, cut, 1.0) == "interrupted"
