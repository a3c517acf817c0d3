"""Errors of the state backends, each with the message a user acts on."""

from ..domain.errors import MockError


class StateError(RuntimeError):
    """A state file or database that cannot be used (in use, too new, not ours, unreachable)."""


class NotSaved(MockError):
    """A write whose changes could not be committed: the client must not take it as done."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"


def migration_plan(version: int, schema: int, steps: dict[int, str], where: str,
                   upgrade: str, reset: str) -> list[tuple[int, str]]:
    """The steps (version reached, SQL) that take state `where` from `version` to `schema`;
    StateError when it was written by a newer mock-server or no migration leads there."""
    if version > schema:
        raise StateError(f"{where} was written by a newer mock-server (state schema {version}, "
                         f"this one knows {schema}): {upgrade}")
    plan = []
    for v in range(version, schema):
        if v not in steps:
            raise StateError(f"{where} has state schema {v}, which this mock-server cannot "
                             f"migrate: `mock-server state reset --state {reset}` starts it "
                             f"afresh")
        plan.append((v + 1, steps[v]))
    return plan
