"""Errors of the state backends, each with the message a user acts on."""

from ..domain.errors import MockError


class StateError(RuntimeError):
    """A state file or database that cannot be used (in use, too new, not ours, unreachable)."""


class NotSaved(MockError):
    """A write whose changes could not be committed: the client must not take it as done."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"
