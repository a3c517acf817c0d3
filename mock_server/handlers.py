"""HANDLERS registry: operationId → handler (startup fails if the spec names a missing one);
API_VIEWS: job type → the job as its vendor's API shows it (the admin API's job detail); and
the caller's tenant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .keys import STORE

if TYPE_CHECKING:
    from aiohttp import web

    from .domain.lifecycle import View
    from .domain.store import Job, Tenant
    from .validation import Call

Handler = Callable[["web.Request", "Call"], Awaitable["web.StreamResponse"]]
HANDLERS: dict[str, Handler] = {}
# (request, tenant, job, now) → {"attributes": what GET answers for the job, "events": its
# events as the API lists them}, links on the request's base (the caller applies due effects)
ApiView = Callable[["web.Request", "Tenant", "Job", float], dict[str, Any]]
API_VIEWS: dict[str, ApiView] = {}
# (app, job, the job at now) → (processed, errors) so far as its API counts them (the
# dashboard's rows)
Counts = Callable[["web.Application", "Job", "View"], tuple[int, int]]
COUNTS: dict[str, Counts] = {}


def handles(*operation_ids: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more operationIds."""

    def register(fn: Handler) -> Handler:
        for op_id in operation_ids:
            if op_id in HANDLERS and HANDLERS[op_id] is not fn:
                raise RuntimeError(f"two handlers for {op_id}")
            HANDLERS[op_id] = fn
        return fn

    return register


def shows(*kinds: str, counts: Counts) -> Callable[[ApiView], ApiView]:
    """Register how a vendor's API shows jobs of these types, and counts their items."""

    def register(fn: ApiView) -> ApiView:
        for kind in kinds:
            API_VIEWS[kind], COUNTS[kind] = fn, counts
        return fn

    return register


# The modules whose handlers serve the spec's operations (importing one registers them).
HANDLER_MODULES = (
    "vendors.commercelayer.handlers", "vendors.commercelayer.oauth",
    "vendors.commercelayer.records", "vendors.commercelayer.files",
    "vendors.commercelayer.webhooks",
    "vendors.rackspace.handlers", "qa.admin_api", "dashboard.events", "webhooks.admin_api",
)


def load_all() -> dict[str, Handler]:
    """Import every handler module so their handlers register; returns the registry."""
    import importlib

    for name in HANDLER_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return HANDLERS


def tenant_of(request: web.Request, call: Call, *key: str) -> Tenant:
    """The caller's tenant in the caller's namespace."""
    return request.app[STORE].tenant((call.namespace, *key))
