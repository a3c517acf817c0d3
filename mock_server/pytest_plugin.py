"""pytest plugin (pytest11 entry point): a `mock_server` fixture serving the mock in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import MockServer
from .settings import Settings


@pytest.fixture(scope="session")
def mock_server_session() -> Iterator[MockServer]:
    """One in-process server per test session, on a free port."""
    with MockServer(Settings(port=0)) as server:
        yield server


@pytest.fixture
def mock_server(mock_server_session: MockServer) -> MockServer:
    """The session's server (each test gets its own namespace once QA controls land)."""
    return mock_server_session
