"""vendors/rackspace/cleanups.py without HTTP: a cleanup never goes back, whatever is reported when."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server import Settings
from mock_server.domain.lifecycle import LIFECYCLES
from mock_server.vendors.rackspace.cleanups import KIND, set_outcome

from .fixtures.rackspace import (
    AGENT,
)

# ---- the domain: a cleanup never goes back, whatever is reported when ----

_ORDER = {"start_requested": 0, "start_scheduled": 0, "queued": 1, "in_progress": 2,
          "stop_requested": 3, "completed": 4, "completed_with_errors": 4, "failed": 4,
          "stopped": 4}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=4),
                          st.sampled_from([*sorted(_ORDER), "/snapshot_ids"])), max_size=12),
       st.sampled_from([None, "completed_with_errors", "failed"]))
def test_state_and_results_never_go_back(steps: list[tuple[float, str]], outcome: str | None) -> None:
    from mock_server.domain import jobs
    from mock_server.domain.errors import MockError
    from mock_server.domain.store import IdSequence, Tenant
    from mock_server.timefmt import rs_time
    from mock_server.vendors.rackspace.cleanups import PatchOp, apply, update
    from mock_server.vendors.rackspace.results import events, results

    lc = LIFECYCLES[KIND]
    tenant = Tenant(("ns", "rs", "1"), IdSequence(7))
    start = 1_767_225_600.0  # real magnitudes: an ulp here is 2e-7 s
    job = jobs.launch(tenant, KIND, lc, Settings(), start, {"agent_id": AGENT}, 0, rackspace=True)
    if outcome:
        set_outcome(tenant, lc, job, outcome)
    now, last, seen_before = start, None, None
    for dt, target in steps:
        now += dt
        try:
            op = PatchOp(target, [1]) if target.startswith("/") else PatchOp("/state", target)
            apply(tenant, job, update(lc, job, [op], now), now)
        except MockError as err:
            assert err.status in (400, 409)
        seen = jobs.view(lc, job, now)
        res = results(7, lc, job, seen)
        ids = [e.id for e in events(seen)]
        assert ids == sorted(set(ids))
        shown = [(e.event, e.id, rs_time(e.at), e.at) for e in events(seen)]  # never rewritten
        if last is not None:
            assert _ORDER[seen.status] >= _ORDER[last[0]]
            if last[0] in lc.terminal:
                assert seen.status == last[0]
            assert res.bytes_after <= last[1].bytes_after or last[1].bytes_after == 0
            assert res.errors.count >= last[1].errors.count
            assert seen_before is not None and shown[: len(seen_before)] == seen_before
        last, seen_before = (seen.status, res), shown
