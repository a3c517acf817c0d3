"""NamespaceHandle: one namespace of a running MockServer as a test sees it (URL, tokens, controls)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from .keys import CONTROLS, FAULTS, JOURNAL, SCENARIOS
from .namespace_path import PREFIX
from .qa.scenarios import Scenario, parse

if TYPE_CHECKING:
    from aiohttp import web

    from .clock import VirtualClock
    from .qa.faults import FaultSet
    from .qa.journal import Entry, Journal


class Server(Protocol):
    """What a handle needs of the running server (server.MockServer is one)."""

    app: web.Application
    clock: VirtualClock

    @property
    def url(self) -> str: ...  # pragma: no cover

    def token(self, org: str = "acme", test: bool = True, *, kind: str = "integration",
              ttl: int = 14400, namespace: str | None = None) -> str: ...  # pragma: no cover


class NamespaceFaults:
    """Fault rules private to one namespace (admin API: POST /_mock/faults with `namespace`)."""

    def __init__(self, faults: FaultSet, namespace: str) -> None:
        self._faults, self.namespace = faults, namespace

    def add(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Add a rule (`path`, `method`, `status`, `latency`, `connection`, `limit`, …); returns it."""
        added = self._faults.add({**(rule or {}), **fields}, namespace=self.namespace)
        return {**added.as_dict(), "hits": 0}

    def list(self) -> list[dict[str, Any]]:
        """The rules that apply here (this namespace's and the server-wide ones), with hits."""
        return self._faults.list(self.namespace)

    def remove(self, rule_id: str) -> bool:
        """Remove one rule by id."""
        return self._faults.remove(rule_id)

    def clear(self) -> int:
        """Remove this namespace's rules; returns how many."""
        return self._faults.clear(self.namespace)


class NamespaceJournal:
    """The requests one namespace sent and what it got back, oldest first."""

    def __init__(self, journal: Journal, namespace: str) -> None:
        self._journal, self.namespace = journal, namespace

    def entries(self, **filters: Any) -> list[Entry]:
        """Matching entries: `method`, `path` (glob), `status` ("200", "4xx"), `operation`, `body`."""
        return self._journal.entries(namespace=self.namespace, **filters)

    def count(self, **filters: Any) -> int:
        """How many entries match, e.g. count(method="GET", path="/api/exports/*")."""
        return self._journal.count(namespace=self.namespace, **filters)

    def clear(self) -> int:
        """Forget this namespace's entries."""
        return self._journal.clear(self.namespace)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())


class NamespaceHandle:
    """A namespace of a running server: what the pytest `mock_server` fixture yields.

    Its `url` carries the namespace in the path (`/_ns/<name>`) and its tokens carry it in the
    `mock_namespace` claim, so whatever client the test uses stays inside it. `clock` is the
    namespace's own: freezing or advancing it moves no other namespace's jobs.
    """

    def __init__(self, server: Server, name: str) -> None:
        self.server, self.name = server, name
        self.clock: VirtualClock = server.clock.own(name)
        self.faults = NamespaceFaults(server.app[FAULTS], name)
        self.journal = NamespaceJournal(server.app[JOURNAL], name)

    @property
    def url(self) -> str:
        """Base URL of this namespace, e.g. http://127.0.0.1:53817/_ns/gw0-test_x-1a2b3c4d."""
        return f"{self.server.url}{PREFIX}{quote(self.name, safe='')}"

    def token(self, org: str = "acme", test: bool = True, *, kind: str = "integration",
              ttl: int = 14400) -> str:
        """A Commerce Layer JWT for `org` (test or live mode) bound to this namespace."""
        return self.server.token(org, test, kind=kind, ttl=ttl, namespace=self.name)

    def scenario(self, kind: str, spec: Any = None, /, *, job: str | None = None,
                 match: Mapping[str, Any] | None = None, release: bool = False,
                 **fields: Any) -> dict[str, Any]:
        """Plan a fate: for one job (`job=id`), else for every `kind` job created from now on.

        `spec` is the text form ("fail_at=50;interrupt_at=30"), a preset name or a mapping;
        keyword fields (fail_at=50, stall=True, durations={...}) are merged over it. `match`
        narrows future jobs by create attributes (globs), e.g. {"resource_type": "orders"}.
        """
        scenario = _merged(spec, fields, self.server.app[SCENARIOS].presets)
        controls = self.server.app[CONTROLS]
        if job is not None:
            return controls.scenario(kind, job, scenario or {}, self.name, release=release)
        if release:
            raise ValueError("release needs job=<id>: only a stored job can be released")
        rule = self.server.app[SCENARIOS].add_rule({"type": kind, **(match or {})}, scenario,
                                                   namespace=self.name)
        return {"type": list(rule.types), "match": dict(rule.match),
                "scenario": rule.scenario.as_dict(), "namespace": self.name}

    def job(self, kind: str, job_id: str) -> dict[str, Any]:
        """A job's plan, scenario, status and transitions now (as GET /_mock/jobs/... shows)."""
        return self.server.app[CONTROLS].job(kind, job_id, self.name)

    def advance_job(self, kind: str, job_id: str, to: str) -> dict[str, Any]:
        """Move one job to a later status now (skipped stages last no time)."""
        return self.server.app[CONTROLS].advance(kind, job_id, to, self.name)

    def reset(self) -> dict[str, Any]:
        """Forget this namespace's jobs, records, fault rules, scenario rules and journal."""
        return self.server.app[CONTROLS].reset(self.name)

    def close(self) -> None:
        """Reset, then let the namespace follow the server's clock again."""
        self.reset()
        self.server.clock.drop(self.name)

    def __repr__(self) -> str:
        return f"<NamespaceHandle {self.name!r} at {self.url}>"


def _merged(spec: Any, fields: Mapping[str, Any], presets: Mapping[str, Scenario]) -> Any:
    """One scenario value from the positional form and keyword fields (fields win)."""
    if not fields:
        return spec
    if spec is None:
        return dict(fields)
    return {**parse(spec, presets).as_dict(), **fields}
