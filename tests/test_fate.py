"""scenarios/fate: a scenario's points and QA's jumps land exactly where they say, at any instant."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.lifecycle import LIFECYCLES, Plan, interrupt, status_at, view
from mock_server.scenarios import fate
from mock_server.scenarios.scenario import Scenario, TooLate

CL = LIFECYCLES["imports"]
RS = LIFECYCLES["rackspace_cleanups"]

instants = st.floats(min_value=1.5e9, max_value=2.5e9, allow_nan=False)  # realistic POSIX times
seconds = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(instants, seconds, seconds, st.integers(1, 400), shares)
def test_advance_holds_at_the_very_instant(start: float, pending: float, work: float,
                                           total: int, share: float) -> None:
    plan = Plan.timed(start, (pending, work), total=total)
    now = start + (pending + work) * share
    for target in ("in_progress", "completed", "interrupted"):
        if status_at(CL, plan, now) in CL.terminal or (target == "in_progress" and (
                plan.ends[1] == plan.ends[0] or status_at(CL, plan, now) == "in_progress")):
            continue  # (zero-length work completes the instant it starts)
        moved = fate.advance(CL, plan, target, now)
        assert status_at(CL, moved, now) == target
        assert view(CL, moved, now + 1000).status == target or target == "in_progress"


@given(instants, seconds, st.floats(min_value=0.001, max_value=500.0), st.integers(1, 400),
       st.data())
def test_an_interrupt_at_an_items_instant_counts_that_item(
        start: float, pending: float, work: float, total: int, data: st.DataObject) -> None:
    plan = Plan.timed(start, (pending, work), total=total)
    item = data.draw(st.integers(1, total))
    at = plan.item_instant(item)
    assert view(CL, interrupt(plan, at), at + 60).processed >= item
    assert plan.items_at(at) >= item
    assert item == total or plan.items_at(plan.item_instant(item + 1)) >= item + 1


def test_a_scenario_on_a_running_job_keeps_the_past() -> None:
    plan = Plan.timed(100.0, (1.0, 10.0), total=50)
    with pytest.raises(TooLate):
        fate.apply(Scenario(durations=(("pending", 5.0),)), plan, CL, "imports", 105.0)
    stalled = fate.apply(Scenario(stall=40.0), plan, CL, "imports", 103.0)
    assert view(CL, stalled, 10_000.0).processed == 20  # 40 % of 50, frozen
    assert view(CL, stalled, 103.0).processed == view(CL, plan, 103.0).processed


def test_a_rackspace_stop_confirmed_now_is_stopped_now() -> None:
    plan = interrupt(Plan.timed(1.7e9 + 0.1, (0.3, 0.7, 5.3), stop_for=9.9), 1.7e9 + 2.2)
    now = 1.7e9 + 3.3
    assert status_at(RS, plan, now) == "stop_requested"
    assert status_at(RS, fate.advance(RS, plan, "stopped", now), now) == "stopped"
