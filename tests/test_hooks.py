"""Extension points: parts contribute by name, in the declared precedence, whatever the order
they were registered in."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.hooks import PRECEDENCE, Hooks


def _gives(**values: Any) -> Any:
    return lambda tenant, job, seen, now: dict(values)


def test_the_part_declared_later_wins_whatever_the_registration_order() -> None:
    assert PRECEDENCE == ("records", "scenarios")
    hooks = Hooks()
    hooks.register("scenarios", enrich=_gives(errors_log={"RuntimeError": "disk full"}))
    hooks.register("records", enrich=_gives(errors_log={}, processed_count=3))
    assert hooks.extras(None, None, None, 0.0) == {  # type: ignore[arg-type]
        "errors_log": {"RuntimeError": "disk full"}, "processed_count": 3}


def test_callbacks_run_in_precedence_order() -> None:
    calls: list[str] = []
    hooks = Hooks()
    hooks.register("scenarios", on_create=lambda t, j, c: calls.append("scenarios"),
                   settle=lambda t, now: calls.append("scenarios settle"))
    hooks.register("records", on_create=lambda t, j, c: calls.append("records"),
                   settle=lambda t, now: calls.append("records settle"))
    for fn in hooks.on_create:
        fn(None, None, {})  # type: ignore[arg-type]
    hooks.settle_all(None, 0.0)  # type: ignore[arg-type]
    assert calls == ["records", "scenarios", "records settle", "scenarios settle"]


def test_unknown_and_repeated_parts_are_refused() -> None:
    hooks = Hooks()
    with pytest.raises(ValueError, match="declare it in hooks.PRECEDENCE"):
        hooks.register("webhooks", enrich=_gives())
    hooks.register("records", enrich=_gives())
    with pytest.raises(ValueError, match="registered already"):
        hooks.register("records", enrich=_gives())
