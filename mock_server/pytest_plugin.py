"""pytest plugin (pytest11 entry point): the mock in-process, one namespace per test.

`mock_server` yields a NamespaceHandle: `.url`, `.token()`, `.clock`, `.scenario()`, `.faults`,
`.journal`, `.reset()`. One server serves the whole session (one per pytest-xdist worker, each
in its own process); every test gets its own namespace, carried by the URL prefix and the
tokens, so tests never see each other's jobs, rules, journal or time.

Options (pyproject `[tool.pytest.ini_options]` or pytest.ini): mock_server_config,
mock_server_fixtures, mock_server_seed, mock_server_speed, mock_server_frozen.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported when a test asks for the server: pytest itself starts fast
    from .serving import MockServer, NamespaceHandle
    from .settings import Settings

_INI = {
    "mock_server_config": "mock-server YAML config for the in-process server (default: none)",
    "mock_server_fixtures": "organization fixture YAML (default: the built-in demo)",
    "mock_server_seed": "seed for generated data and fault sequences (default: 1)",
    "mock_server_speed": "virtual seconds per real second of each test's clock (default: 1.0)",
    "mock_server_frozen": "start each test's clock frozen: only advance() moves it (default: false)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini options."""
    for name, help_text in _INI.items():
        parser.addini(name, help_text, default=None)


def namespace_for(nodeid: str, worker: str = "main") -> str:
    """A URL-safe namespace naming the test: worker, test name, and a digest of the node id."""
    name = nodeid.rsplit("::", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:40] or "test"
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    return f"{worker}-{slug}-{digest}"


def _path(config: pytest.Config, value: str) -> str:
    path = Path(value)
    return str(path if path.is_absolute() else config.rootpath / path)


def settings_from_ini(config: pytest.Config) -> Settings:
    """The session server's settings: the config file, then the other options, on a free port."""
    from .settings import ConfigError, Settings

    given = {name[len("mock_server_"):]: str(value).strip() for name in _INI
             if (value := config.getini(name)) is not None and str(value).strip()}
    path = given.pop("config", None)
    if "fixtures" in given:
        given["fixtures"] = _path(config, given["fixtures"])
    try:
        base = Settings.from_file(_path(config, path)) if path else Settings()
        values = {k: getattr(Settings.from_mapping({k: v}, f"ini option mock_server_{k}"), k)
                  for k, v in given.items()}  # one at a time: an error names its option
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return base.with_overrides(host="127.0.0.1", port=0, **values)


@pytest.fixture(scope="session")
def mock_server_session(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """One in-process server per session (per xdist worker), on a free port."""
    from .serving import MockServer

    with MockServer(settings_from_ini(pytestconfig)) as server:
        yield server


@pytest.fixture
def mock_server(mock_server_session: MockServer, request: pytest.FixtureRequest
                ) -> Iterator[NamespaceHandle]:
    """This test's namespace of the session server: URL, tokens, own clock, QA controls."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    handle = mock_server_session.namespace(namespace_for(request.node.nodeid, worker), fresh=True)
    yield handle
    handle.close()
