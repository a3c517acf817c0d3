"""create_app(settings): every AppKey, the middleware order, one route per spec operation."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from . import handlers as api
from .dashboard.streams import Streams
from .domain.changes import ClockMoved
from .domain.clock import VirtualClock
from .domain.errors import PayloadTooLarge
from .domain.model import load_types
from .domain.store import Store
from .handlers import Handler
from .headers import NAMESPACE_HEADER
from .hooks import Hooks
from .keys import (
    AUTHENTICATORS,
    CLOCK,
    CONTROLS,
    FAULTS,
    HOOKS,
    JOURNAL,
    KEEPER,
    RATE_LIMITER,
    RENDERS,
    RS_AGENTS,
    SCENARIOS,
    SETTINGS,
    SHARED,
    SIGNER,
    SPEC,
    STORE,
    STREAMS,
    TYPES,
    WEBHOOKS,
)
from .pipeline import pipeline
from .qa import admin_access
from .qa.controls import Controls
from .qa.faults import FaultSet
from .qa.journal import BODY_NOTE, Journal
from .qa.ratelimit import Limits, RateLimiter
from .records.simulation import install
from .records.simulation.files import Signer
from .render_cache import RenderCache
from .scenarios.attach import enrich, scenario_hook
from .scenarios.book import ScenarioBook
from .settings import Settings
from .spec.load import Operation, Spec
from .state import Keeper, open_backend
from .state.durable import DurableStore
from .state.postgres import PostgresState
from .state.shared import SharedKeeper
from .timefmt import parse_time
from .validation import Call, HeadChecks, parse_body
from .vendors.commercelayer.auth import principal as cl_principal
from .vendors.commercelayer.webhooks import payload as webhook_payload
from .vendors.rackspace.agents import AgentBook
from .vendors.rackspace.auth import principal as rs_principal
from .webhooks.engine import Engine
from .webhooks.policy import RULES as WEBHOOK_RULES
from .webhooks.policy import SECTION as WEBHOOK_SECTION
from .webhooks.policy import Policy
from .webhooks.replicas import KEPT_AS as WATERMARK
from .webhooks.replicas import share as share_webhooks
from .webhooks.rules import DeliveryRules
from .webhooks.topics import Topics


def _bearer(headers: Mapping[str, str], wall_now: float) -> Any:
    return cl_principal(headers.get("Authorization"), wall_now)


def _rackspace_token(headers: Mapping[str, str], wall_now: float) -> Any:
    return rs_principal(headers)


# Every security scheme of the spec, and who checks it (the routes and the fast path).
AUTHENTICATION = {"bearerAuth": _bearer, "rackspaceToken": _rackspace_token}


def _namespace(request: web.Request, principal: Any) -> str:
    header = request.headers.get(NAMESPACE_HEADER)
    if header:
        return header
    return getattr(principal, "namespace", None) or "default"


async def _body(request: web.Request) -> bytes:
    """The body, read only after authentication; 413 before reading one said to be too big (one
    sent in chunks is cut off at the limit by aiohttp, answered the same)."""
    limit = request.client_max_size
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The request body has {request.content_length:,} bytes; this "
                              f"server takes at most {limit:,} (setting max_body).")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"The request body is over {limit:,} bytes, the most this server "
                              f"takes (setting max_body).") from None


def _route(op: Operation, handler: Handler) -> Handler:
    """The aiohttp handler of one operation: authenticate, validate, then the vendor handler."""

    admin = op.path.startswith("/_mock")
    checked = HeadChecks(op)

    async def serve(request: web.Request) -> web.StreamResponse:
        app = request.app
        if admin:
            admin_access.check(request, app[SETTINGS].admin_token)
        principal = None
        for scheme in op.security:
            principal = app[AUTHENTICATORS][scheme](request.headers, app[CLOCK].wall())
        path, query, raw_query = checked(request)
        raw = await _body(request) if request.body_exists else b""
        request[BODY_NOTE] = raw  # what the journal keeps: read only once the caller is known
        body = parse_body(op, raw, request.headers.get("Content-Type"))
        namespace = _namespace(request, principal)
        call = Call(
            op=op,
            path=path,
            query=query,
            raw_query=raw_query,
            body=body,
            principal=principal,
            namespace=namespace,
            now=app[CLOCK].now(namespace),  # a namespace may keep its own time (pytest handle)
        )
        return await handler(request, call)

    return serve


def _register(app: web.Application, spec: Spec, handlers: dict[str, Handler],
              shared: SharedKeeper | None) -> None:
    missing = sorted(set(spec.operations) - set(handlers))
    if missing:
        raise RuntimeError(f"operations without a handler: {', '.join(missing)}")
    # Literal paths before templated ones, so /api/imports wins over /api/{resourceType}.
    ops = sorted(spec.operations.values(), key=lambda o: (o.path.count("{"), o.path))
    for op in ops:
        handler = handlers[op.operation_id]
        if shared is not None:  # replicas: a tenant's changes under its lock (state/shared.py)
            keys = [TENANT_KEYS[s] for s in op.security if s in TENANT_KEYS]
            handler = shared.route(keys[0] if keys else _no_tenant,
                                   admin=op.path.startswith("/_mock"))(handler)
        app.router.add_route(op.method.upper(), op.path, _route(op, handler),
                             name=op.operation_id)


def _no_tenant(call: Call) -> None:
    return None


def _cl_tenant(call: Call) -> tuple[str, ...]:
    return ("cl", call.principal.org_slug, call.principal.mode)


def _rs_tenant(call: Call) -> tuple[str, ...]:
    return ("rs", call.principal.project(call.path.get("project_id")))


# Whose data an authenticated call works on, by security scheme (handlers.tenant_of agrees).
TENANT_KEYS = {"bearerAuth": _cl_tenant, "rackspaceToken": _rs_tenant}


def create_app(settings: Settings | None = None, clock: VirtualClock | None = None,
               store: Store | None = None) -> web.Application:
    """The mock server as an aiohttp application; `store` is where its jobs are kept (the
    in-memory Store by default: any implementation of the seam in domain/store.py fits)."""
    settings = settings or Settings()
    spec = Spec.from_file(settings.spec_path)
    start = parse_time(settings.start) if settings.start else None
    keeper: Keeper | SharedKeeper | None = None
    real = time.time
    if settings.state:  # StateError: in use, too new, unreachable (said in one line)
        if store is not None or clock is not None:
            raise ValueError("a state setting keeps its own store and clock: give neither")
        backend = open_backend(settings.state)
        if isinstance(backend, PostgresState):
            keeper, real = SharedKeeper(backend, settings.journal_size), backend.wall
        else:
            keeper = Keeper(backend)
        store = DurableStore(settings.seed)
    clock = clock or VirtualClock(start=start, speed=settings.speed, frozen=settings.frozen,
                                  real=real)
    if keeper is not None:
        keeper.keep("clock", clock.anchors, clock.restore)  # time goes on where it was
    source = settings.config_file or "<config>"
    journal = Journal(settings.journal_size, namespaces=settings.max_tenants)
    faults = FaultSet.from_config(settings.seed, settings.extra.get("faults"), source)
    limits = Limits.from_config(settings.extra.get("rate_limit"), source)
    limiter = RateLimiter(limits, settings.rate_limits)
    # One middleware, in one frame (pipeline.py): /_ns/ prefix → journal → faults (+ rate
    # limits) → errors → commit (a state file: a write is answered once committed) → the base
    # of download links → route.
    middlewares = [pipeline(journal, clock, faults, limiter, settings.public_url,
                            keeper.commit if isinstance(keeper, Keeper) else None)]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body)
    app[SETTINGS] = settings
    app[SPEC] = spec
    app[CLOCK] = clock
    app[JOURNAL], app[FAULTS], app[RATE_LIMITER] = journal, faults, limiter
    app[STORE] = store if store is not None else Store(settings.seed)
    app[STORE].max_tenants = settings.max_tenants
    app[RENDERS] = RenderCache(app[STORE])
    clock.on_move(lambda namespace, now: app[STORE].feed.publish(ClockMoved(namespace, now)))
    app[TYPES] = load_types(spec)
    app[HOOKS] = Hooks()
    app[SIGNER] = Signer.for_settings(settings.files_key, settings.public_url, settings.host,
                                      settings.port)
    install(app)  # the records simulation: sizers, effects, fixtures (records/simulation/)
    app[RS_AGENTS] = AgentBook.from_config(settings.extra.get("agents"))
    app[AUTHENTICATORS] = AUTHENTICATION
    book = ScenarioBook.from_config(settings.extra, source)
    app[SCENARIOS] = book
    app[HOOKS].register("scenarios", on_create=scenario_hook(book), enrich=enrich)
    app[CONTROLS] = Controls(settings=settings, clock=clock, store=app[STORE], journal=journal,
                             faults=faults, limiter=limiter, book=book,
                             counts=lambda job, seen: api.COUNTS[job.kind](app, job, seen))
    app[STREAMS] = Streams()
    app.on_shutdown.append(app[STREAMS].close)  # open dashboards' streams end at once
    shared = keeper if isinstance(keeper, SharedKeeper) else None
    _register(app, spec, api.load_all(), shared)
    hooks_config = settings.extra.get(WEBHOOK_SECTION)
    app[WEBHOOKS] = Engine(app[STORE], clock, app[TYPES], Topics.from_spec(spec), settings.seed,
                           lambda tenant, job, at, hook: webhook_payload(app, tenant, job, at, hook),
                           keeper if isinstance(keeper, Keeper) else None, journal,
                           Policy.from_config(hooks_config, source),
                           DeliveryRules.from_config(
                               hooks_config.get(WEBHOOK_RULES) if isinstance(hooks_config, dict)
                               else None, source))
    app[CONTROLS].resets.append(app[WEBHOOKS].rules.clear)
    if shared is None:
        app.on_startup.append(app[WEBHOOKS].start)
        app.on_cleanup.append(app[WEBHOOKS].close)
    else:  # replicas: the one that holds the lead sends
        share_webhooks(app, app[WEBHOOKS], shared)
    if keeper is not None:
        _keep(app, keeper)
    return app


def _keep(app: web.Application, keeper: Keeper | SharedKeeper) -> None:
    """Restore what the state kept and keep writing it (state/)."""
    store = app[STORE]
    assert isinstance(store, DurableStore)

    def issued(value: int) -> None:
        store.ids.issued = max(store.ids.issued, int(value))

    if isinstance(keeper, Keeper):  # replicas take ids from the database's sequence instead
        keeper.keep("ids", lambda: store.ids.issued, issued)
    keeper.keep("faults", app[FAULTS].state, app[FAULTS].restore)
    keeper.keep("scenarios", app[SCENARIOS].state, app[SCENARIOS].restore)
    keeper.keep("rate_limits", app[RATE_LIMITER].state, app[RATE_LIMITER].restore)
    keeper.keep(WATERMARK, app[WEBHOOKS].kept, app[WEBHOOKS].restore)
    keeper.keep("webhook_rules", app[WEBHOOKS].rules.state, app[WEBHOOKS].rules.restore)
    signer = app[SIGNER]
    if app[SETTINGS].files_key is None:  # the random key: links outlive restarts, replicas agree
        keeper.keep("files_key", lambda: signer.key.hex(),
                    lambda kept: setattr(signer, "key", bytes.fromhex(kept)))
    keeper.attach(store, app[JOURNAL])
    if isinstance(keeper, SharedKeeper):
        keeper.fixture_jobs = store.loader_jobs
        keeper.now = app[CLOCK].now
        app[RATE_LIMITER].shared = keeper.rate_limit  # windows counted by every replica
        app[SHARED] = keeper
    else:
        app[KEEPER] = keeper
    app.on_startup.append(keeper.start)
    app.on_cleanup.append(keeper.close)
