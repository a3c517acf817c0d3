"""Stateful phase: chains of calls along the spec's OpenAPI links (create → get/patch/delete…)."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, settings

from .schema import load_schema
from .target import active

schema = load_schema(active().target)


class JobWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Scenarios start at a create and follow its links; every step runs every check."""

    def setup(self) -> None:
        """Against this project's mock, each scenario starts from a fresh namespace. The lists
        the scenarios draw from (and the 10-active-jobs limit) otherwise carry what earlier
        scenarios created, so a replay sees other answers than its first run and Hypothesis
        reports flaky data generation. Other servers keep their state: nothing to reset there."""
        target = active().target
        if target.is_mock and target.namespace:
            resp = requests.post(f"{target.base_url}/_mock/reset",
                                 json={"namespace": target.namespace}, timeout=10)
            resp.raise_for_status()


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
