"""Stateful phase: chains of calls along the spec's OpenAPI links (create → get/patch/delete…)."""

from __future__ import annotations

import itertools
from typing import Any

import requests
from hypothesis import HealthCheck, settings

from .schema import load_schema
from .target import NAMESPACE_HEADER, active

schema = load_schema(active().target)
_SCENARIOS = itertools.count(1)


class JobWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Scenarios start at a create and follow its links; every step runs every check.

    Against this project's mock each scenario runs in a namespace of its own, so what it sees
    (the lists it draws from, the 10-active-jobs limit, the ids the cross-request checks track,
    which are scoped by namespace) is its own: a replay sees what its first run saw, and no check
    mixes two scenarios up. Other servers keep their state: nothing to separate there.
    """

    namespace: str | None = None

    def setup(self) -> None:
        target = active().target
        if target.is_mock and target.namespace:
            self.namespace = f"{target.namespace}-s{next(_SCENARIOS)}"

    def before_call(self, case: Any) -> None:
        if self.namespace:
            case.headers = {**(case.headers or {}), NAMESPACE_HEADER: self.namespace}

    def teardown(self) -> None:
        if self.namespace:  # the scenario's data is no longer needed
            requests.post(f"{active().target.base_url}/_mock/reset",
                          json={"namespace": self.namespace}, timeout=10).raise_for_status()


def test_links(fresh_queue: None) -> None:
    # derandomize: the same scenarios on every CI run (the fuzzing phases take --seed instead)
    JobWorkflows.run(settings=settings(
        max_examples=max(5, active().target.max_examples),
        stateful_step_count=6,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    ))
