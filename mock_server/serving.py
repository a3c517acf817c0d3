"""Serving the mock: `mock-server serve` (run), MockServer (the app on its own loop in a thread,
for tests and non-async code) and NamespaceHandle (one namespace of it as a test sees it). The
fast path for repeated reads (fast_path.py) is installed here, once for both ways of serving."""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import socket
import sys
import threading
from collections.abc import Coroutine, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from . import fast_path, request_log
from .app import create_app
from .connections import Runner
from .domain.clock import VirtualClock
from .domain.store import Store
from .keys import CLOCK, CONTROLS, FAULTS, JOURNAL, SCENARIOS, SPEC
from .namespace_path import PREFIX
from .qa.admin_access import exposed_warning
from .qa.controls import Controls
from .scenarios.scenario import Scenario, parse
from .settings import ConfigError, Settings
from .state import StateError
from .state.pg_rows import safe_url
from .vendors.commercelayer.auth import issue, stable_id
from .webhooks.handle import NamespaceWebhooks

if TYPE_CHECKING:
    from .qa.faults import FaultSet
    from .qa.journal import Entry, Journal


def _runner(app: web.Application, settings: Settings) -> web.AppRunner:
    """How the app is served: no access log, signals left to the caller, and connections with
    a deadline for request headers and an idle limit."""
    return Runner(app, handle_signals=False, access_log=None,
                  header_timeout=settings.header_timeout, idle_timeout=settings.idle_timeout)


async def _started(runner: web.AppRunner, host: str, port: int) -> fast_path.FastPath:
    """Set up a runner, install the fast path, and listen."""
    await runner.setup()
    fast = fast_path.install(runner)
    await web.TCPSite(runner, host, port).start()
    return fast


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults < --config file < MOCK_SERVER_* environment < flags."""
    base = Settings.from_file(args.config) if args.config else Settings()
    base = Settings.from_env(base)
    return base.with_overrides(
        host=args.host, port=args.port, seed=args.seed, speed=args.speed, frozen=args.frozen,
        start=args.start, public_url=args.public_url, limits=args.limits, rate_limits=args.rate_limits,
        fixtures=args.fixtures, state=args.state, admin_token=args.admin_token,
        request_log=False if args.quiet else None, log_level=args.log_level,
        log_format=args.log_format,
    )


def banner(settings: Settings, url: str, app: web.Application) -> list[str]:
    """What `mock-server serve` says when it listens: where, what it serves, from what."""
    ops = app[SPEC].operations.values()
    cl = sum(1 for o in ops if o.path.startswith(("/api", "/oauth")))
    rs = sum(1 for o in ops if o.path.startswith("/v2"))
    state = "memory (gone when stopped)" if not settings.state else safe_url(settings.state)
    return [
        f"mock-server listening on {url}",
        f"serving {cl} Commerce Layer and {rs} Rackspace operations from "
        f"{settings.spec_path or 'openapi.yaml'}; admin at {url}/_mock/",
        f"config {settings.config_file or 'built-in defaults'}; organization "
        f"{settings.organization}; fixtures {settings.fixtures or 'built-in demo'}; seed "
        f"{settings.seed}; speed {settings.speed:g}x{' (frozen)' if settings.frozen else ''}; "
        f"state {state}; request log "
        f"{settings.log_format if settings.request_log else 'off (--quiet)'}",
    ]


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = _runner(app, settings)
    await _started(runner, settings.host, settings.port)
    port = runner.addresses[0][1] if runner.addresses else settings.port
    url = f"http://{settings.host}:{port}"
    for line in banner(settings, url, app):
        print(line, flush=True)
    request_log.install(app[JOURNAL], enabled=settings.request_log, level=settings.log_level,
                        fmt=settings.log_format)
    warning = exposed_warning(settings.host, settings.admin_token)
    if warning:
        print(f"mock-server: warning: {warning}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("mock-server: shutting down", flush=True)
    await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 with a clear message on bad configuration."""
    settings = Settings()
    try:
        settings = settings_from_args(args)
        asyncio.run(_serve(settings))
    except (ConfigError, StateError) as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mock-server: {_cannot_listen(exc, settings)}", file=sys.stderr)
        return 2
    return 0


def _cannot_listen(exc: OSError, settings: Settings) -> str:
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: the port is in use; choose another with --port N, "
                f"or --port 0 for any free one")
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: this machine has no such address (--host)"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: not allowed (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


async def _shut(runner: web.AppRunner) -> None:
    """Clean the runner up, then end what is left on the loop (connections it closed), as
    asyncio.run does, so that no task is destroyed while pending."""
    await runner.cleanup()
    left: Any = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if left:  # a moment to end by themselves (a notice being sent), then cancelled
        _, left = await asyncio.wait(left, timeout=0.1)
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=5)


class MockServer:
    """`with MockServer() as server:` serves on a free port until the block ends."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 **overrides: Any) -> None:
        """`store`: where jobs are kept (default: in memory; see domain/store.py's seam)."""
        base = settings or Settings(port=0)
        self.settings = base.with_overrides(**overrides)
        self.app: web.Application = create_app(self.settings, store=store)
        self.clock: VirtualClock = self.app[CLOCK]
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.fast_path: fast_path.FastPath | None = None  # once serving

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:53817."""
        return f"http://{self.settings.host}:{self.port}"

    @property
    def controls(self) -> Controls:
        """The QA controls (clock, reset, job scenarios) the admin API wraps."""
        return self.app[CONTROLS]

    def token(self, org: str = "acme", test: bool = True, *, kind: str = "integration",
              ttl: int = 14400, namespace: str | None = None) -> str:
        """A Commerce Layer JWT (as POST /oauth/token issues) the official clients accept."""
        body = issue(org_slug=org, client_id=stable_id("client", org), kind=kind, test=test,
                     wall_now=self.clock.wall(), ttl=ttl, namespace=namespace)
        return str(body["access_token"])

    def namespace(self, name: str, fresh: bool = False) -> NamespaceHandle:
        """A handle on one namespace: its URL, tokens, own clock and QA controls.

        `fresh` first forgets what the namespace held (data, rules, journal, own clock).
        """
        if fresh:
            self.controls.reset(name)
            self.clock.drop(name)
        return NamespaceHandle(self, name)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        """Run a coroutine on the server's loop and wait for its result (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> MockServer:
        """Start serving; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            self._runner = _runner(self.app, self.settings)
            self.fast_path = await _started(self._runner, self.settings.host, self.settings.port)
            self.port = self._runner.addresses[0][1]

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(boot())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name="mock-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(_shut(self._runner), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


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

    def __init__(self, server: MockServer, name: str) -> None:
        self.server, self.name = server, name
        self.clock: VirtualClock = server.clock.own(name)
        self.faults = NamespaceFaults(server.app[FAULTS], name)
        self.journal = NamespaceJournal(server.app[JOURNAL], name)
        self.webhooks = NamespaceWebhooks(server, name)

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
        self.webhooks.clear()
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
