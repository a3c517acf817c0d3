"""Spec-driven mock and contract-testing server for asynchronous job APIs."""

from .app import create_app
from .domain.clock import VirtualClock
from .serving import MockServer
from .settings import Settings

__all__ = ["MockServer", "Settings", "VirtualClock", "create_app"]
