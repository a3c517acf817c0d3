"""Which server the suite checks, with which credentials: options → a running Session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from .model import default_spec_path
from .timeline import Timeline, clock_moves

API_CHOICES = ("commercelayer", "rackspace", "all")
NAMESPACE_HEADER = "X-Mock-Namespace"
IN_PROCESS_CLIENT = "contract-suite"  # client id used against the in-process mock
IN_PROCESS_RS_TOKEN = "contract-suite-token"  # the mock accepts any non-empty X-Auth-Token
DEFAULT_PROJECT = "123456"  # notes: rackspace_cleanups.md examples use project 123456
DEFAULT_AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"  # notes: rackspace_cleanups.md §1 example

# option name → (environment variable, type, default)
OPTIONS: dict[str, tuple[str, type, Any]] = {
    "base_url": ("CONTRACT_BASE_URL", str, None),
    "token": ("CONTRACT_TOKEN", str, None),
    "client_id": ("CONTRACT_CLIENT_ID", str, None),
    "client_secret": ("CONTRACT_CLIENT_SECRET", str, None),
    "token_url": ("CONTRACT_TOKEN_URL", str, None),
    "rackspace_token": ("CONTRACT_RACKSPACE_TOKEN", str, None),
    "project_id": ("CONTRACT_PROJECT_ID", str, None),
    "api": ("CONTRACT_API", str, None),
    "max_examples": ("CONTRACT_MAX_EXAMPLES", int, 20),
    "seed": ("CONTRACT_SEED", int, 1),
    "poll_budget": ("CONTRACT_POLL_BUDGET", float, 120.0),
    "poll_interval": ("CONTRACT_POLL_INTERVAL", float, 1.0),
    "agent_id": ("CONTRACT_AGENT_ID", str, None),
    "clock": ("CONTRACT_CLOCK", str, "auto"),
    "spec": ("CONTRACT_SPEC", str, None),
    "webhook_receiver": ("CONTRACT_WEBHOOK_RECEIVER", str, None),
    "defect": ("CONTRACT_DEFECT", str, None),  # test-only: a DefectProxy between suite and mock
}


class TargetError(Exception):
    """The target cannot be used as given (bad URL, credentials refused, unknown option)."""


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked for; None means not given (environment and defaults fill in)."""

    base_url: str | None = None
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    rackspace_token: str | None = None
    project_id: str | None = None
    api: str | None = None
    max_examples: int = 20
    seed: int = 1
    poll_budget: float = 120.0
    poll_interval: float = 1.0
    agent_id: str | None = None
    clock: str = "auto"  # auto: move the mock's clock when it has one; real: never
    spec: str | None = None
    webhook_receiver: str | None = None  # HOST:PORT the target can reach: run the webhook checks
    defect: str | None = None

    @classmethod
    def from_sources(cls, given: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Options:
        """Explicit values win over CONTRACT_* environment variables, which win over defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (var, kind, default) in OPTIONS.items():
            value = given.get(name)
            if value is None and env.get(var):
                try:
                    value = kind(env[var])
                except ValueError:
                    raise TargetError(f"{var}={env[var]!r} is not a valid {kind.__name__}") from None
            values[name] = default if value is None else value
        if values["api"] is not None and values["api"] not in API_CHOICES:
            raise TargetError(f"--api must be one of {', '.join(API_CHOICES)}")
        if values["clock"] not in ("auto", "real"):
            raise TargetError("--clock must be auto or real")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved target: URL, credentials per API, and what the suite may assume of it."""

    base_url: str
    bearer: str | None
    rackspace_token: str | None
    project_id: str
    apis: frozenset[str]
    spec_path: str
    agent_id: str = DEFAULT_AGENT
    namespace: str | None = None  # set when the target is this project's mock
    webhook_receiver: tuple[str, int] | None = None  # where the webhook checks listen
    is_mock: bool = False
    max_examples: int = 20
    seed: int = 1

    def headers_for(self, api: str) -> dict[str, str]:
        """Credentials (and mock namespace) for plain requests to one API."""
        out = {NAMESPACE_HEADER: self.namespace} if self.namespace else {}
        if api == "rackspace" and self.rackspace_token:
            out["X-Auth-Token"] = self.rackspace_token
        if api == "commercelayer" and self.bearer:
            out["Authorization"] = f"Bearer {self.bearer}"
        return out


@dataclass
class Session:
    """The target plus everything started for it (in-process mock, defect proxy), and its clock."""

    target: Target
    timeline: Timeline
    closers: list[Callable[[], None]] = field(default_factory=list)
    in_process: bool = False  # the mock was started by the suite (gone when the run ends)

    def close(self) -> None:
        """Stop what this session started, newest first."""
        while self.closers:
            self.closers.pop()()


def _host_port(text: str | None) -> tuple[str, int] | None:
    """HOST:PORT (PORT 0: any free one), as --webhook-receiver takes it."""
    if text is None:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise TargetError(f"--webhook-receiver {text!r}: give HOST:PORT the target can reach, "
                          f"e.g. 10.0.0.5:8765 (PORT 0 picks a free one)")
    return host.strip("[]"), int(port)


def fetch_token(token_url: str, client_id: str, client_secret: str | None,
                headers: Mapping[str, str] | None = None) -> str:
    """A bearer token through the client-credentials grant (notes: commercelayer_api.md §3)."""
    body = {"grant_type": "client_credentials", "client_id": client_id}
    if client_secret:
        body["client_secret"] = client_secret
    try:
        resp = requests.post(token_url, json=body, headers=dict(headers or {}), timeout=30)
    except requests.RequestException as exc:
        raise TargetError(f"cannot reach {token_url}: {exc}") from None
    try:
        token = resp.json().get("access_token") if resp.status_code == 200 else None
    except ValueError:
        token = None
    if not isinstance(token, str) or not token:
        raise TargetError(f"POST {token_url} gave no access_token (HTTP {resp.status_code}: "
                          f"{_one_line(resp.text)}): pass a valid --client-id and --client-secret, "
                          f"or a token with --token")
    return token


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _reachable(base_url: str) -> None:
    try:
        requests.get(base_url + "/", timeout=10)
    except requests.RequestException as exc:
        raise TargetError(f"cannot reach {base_url} ({type(exc).__name__}): is the server up, and "
                          f"is --base-url right?") from None


# API → (what to pass, a list every valid credential may read)
_CREDENTIALS = {
    "commercelayer": ("--token TOKEN, or --client-id ID (and --client-secret SECRET)", "/api/imports"),
    "rackspace": ("--rackspace-token TOKEN (and --project-id ID)", "/v2/{project_id}/cleanups"),
}


def check_credentials(target: Target) -> None:
    """Stop at once, with one line naming the option to pass, when credentials are missing or
    refused: a run where every request gets 401 says nothing about the server."""
    missing = [api for api in sorted(target.apis)
               if not (target.bearer if api == "commercelayer" else target.rackspace_token)]
    if missing:
        wanted = "; ".join(f"{api}: {_CREDENTIALS[api][0]}" for api in missing)
        raise TargetError(f"no credentials for {', '.join(missing)}: pass {wanted} "
                          f"(or the CONTRACT_* variables; --api selects one API)")
    for api in sorted(target.apis):
        option, path = _CREDENTIALS[api]
        path = path.format(project_id=target.project_id)
        try:
            resp = requests.get(target.base_url + path, headers=target.headers_for(api), timeout=30)
        except requests.RequestException as exc:
            raise TargetError(f"cannot reach {target.base_url}: {exc}") from None
        if resp.status_code in (401, 403):
            raise TargetError(f"the {api} credentials were refused (GET {path} → "
                              f"{resp.status_code}: {_one_line(resp.text)}): pass a valid {option}")


def _apis(opts: Options, in_process: bool) -> frozenset[str]:
    if opts.api:
        return frozenset(API_CHOICES[:2]) if opts.api == "all" else frozenset({opts.api})
    cl = bool(opts.token or opts.client_id)
    rs = bool(opts.rackspace_token)
    if in_process or cl == rs:
        return frozenset(API_CHOICES[:2])
    return frozenset({"commercelayer" if cl else "rackspace"})


def open_session(opts: Options) -> Session:
    """Resolve options into a Session, starting the in-process mock when no URL is given."""
    closers: list[Callable[[], None]] = []
    handle = None
    base = (opts.base_url or "").rstrip("/")
    try:
        if not base:
            from mock_server import MockServer, Settings

            server = MockServer(Settings(port=0, seed=opts.seed)).start()
            closers.append(server.stop)
            handle, base = server.clock, server.url
            opts = replace(opts, client_id=opts.client_id or IN_PROCESS_CLIENT,
                           rackspace_token=opts.rackspace_token or IN_PROCESS_RS_TOKEN)
        if opts.defect:
            from .proxy import DefectProxy

            proxy = DefectProxy(base, opts.defect).start()
            closers.append(proxy.stop)
            base = proxy.url
        _reachable(base)
        control = opts.clock == "auto"
        # This mock's clock and namespaces are used only when an advance really moves the clock
        # (in-process we started the mock ourselves). --clock real never moves it.
        is_mock = handle is not None or (control and clock_moves(base))
        namespace = f"contract-{uuid.uuid4().hex[:10]}" if is_mock else None
        ns_headers = {NAMESPACE_HEADER: namespace} if namespace else {}
        bearer = opts.token
        if bearer is None and opts.client_id:
            bearer = fetch_token(opts.token_url or base + "/oauth/token", opts.client_id,
                                 opts.client_secret, ns_headers)
        target = Target(
            base_url=base,
            bearer=bearer,
            rackspace_token=opts.rackspace_token,
            project_id=opts.project_id or DEFAULT_PROJECT,
            agent_id=opts.agent_id or DEFAULT_AGENT,
            apis=_apis(opts, handle is not None),
            spec_path=str(opts.spec or default_spec_path()),
            namespace=namespace,
            webhook_receiver=_host_port(opts.webhook_receiver),
            is_mock=is_mock,
            max_examples=opts.max_examples,
            seed=opts.seed,
        )
        check_credentials(target)
        timeline = Timeline(base, handle=handle if control else None,
                            admin=control and handle is None and is_mock,
                            budget=opts.poll_budget, interval=opts.poll_interval)
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return Session(target, timeline, closers, in_process=not opts.base_url)


# The module-level Schemathesis schema of the test modules is built at import (collection) time,
# after pytest_configure opened the session; this slot hands the session over. One per process.
_ACTIVE: list[Session] = []


def activate(session: Session) -> None:
    """Make `session` the one the test modules build their schema for."""
    _ACTIVE[:] = [session]


def deactivate(session: Session) -> None:
    """Forget `session` (at pytest_unconfigure)."""
    if _ACTIVE and _ACTIVE[0] is session:
        _ACTIVE.clear()


def active() -> Session:
    """The session opened by the contract suite's conftest."""
    if not _ACTIVE:
        raise RuntimeError("no contract session: run the suite with pytest contract_tests/ "
                           "or mock-server contract")
    return _ACTIVE[0]
