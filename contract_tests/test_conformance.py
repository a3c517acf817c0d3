"""Every operation of the spec through Schemathesis: examples, coverage and fuzzing phases,
positive and negative, with the built-in checks plus ours (checks.py)."""

from __future__ import annotations

import pytest

from .schema import load_schema
from .target import active

schema = load_schema(active().target)


@pytest.fixture(autouse=True)
def _queue(fresh_queue: None) -> None:
    """Each operation starts with no job still running (when the clock can be moved)."""


@schema.parametrize()
def test_operation(case) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate()
