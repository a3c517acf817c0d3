"""Webhooks with PostgreSQL replicas: one replica, the leader, sends every delivery.

The leader holds a session lock of the database (state/postgres.py `try_lead`); the others
try again every second and take over when its connection ends (SIGKILL included). A write to
a tenant with webhooks is announced as watched, so the leader catches that tenant up at once;
what it absorbs reaches its engine as change events (jobs) and `hooks_absorbed` (webhooks). The
records a delivery changes (event callbacks, the circuit, the outbox) are written in the
tenant's transaction, so every replica reads them. The leader keeps its watermark (the instant
events were found up to) in the database once everything found was attempted: a new leader
sends what fell after it, and resumes the outbox. Delivery is at least once: a receiver may
see an event again after a takeover, with the same `X-Mock-Event-Id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ..records.simulation.org import org_records
from ..timefmt import parse_time

if TYPE_CHECKING:
    from aiohttp import web

    from ..domain.store import Store, Tenant, TenantKey
    from ..state.durable import Batch
    from ..state.shared import SharedKeeper
    from .engine import Engine

KEPT_AS = "webhooks"  # the name the engine's watermark is kept under (app.py's keep)
WATERMARK_EVERY = 1.0  # real seconds between writes of the leader's watermark
HOOKS = "webhooks"  # the record type whose changes re-index the leader's engine
log = logging.getLogger("mock_server.webhooks")


def share(app: web.Application, engine: Engine, keeper: SharedKeeper) -> None:
    """Let the replica that takes the lead run `engine`; the others only announce."""
    engine.sender.shared = keeper
    keeper.watched = lambda key, batch: _watched(engine.store, key, batch)
    task: list[asyncio.Task[None]] = []

    async def lead() -> None:
        keeper.records_absorbed = lambda tenant, rows: _absorbed(engine, tenant, rows)
        await engine.start(app)
        task.append(asyncio.ensure_future(_keep_watermark(engine, keeper)))

    async def stop(app: web.Application) -> None:
        for t in task:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await engine.close(app)

    keeper.on_lead = lead
    app.on_cleanup.insert(0, stop)  # before the keeper closes its connections


def _watched(store: Store, key: TenantKey, batch: Batch) -> bool:
    """A write the leader follows at once: to a tenant with webhooks, or of its webhooks."""
    if any(rtype == HOOKS for _, rtype, _, _ in batch.records):
        return True
    tenant = store.peek(key)
    records = org_records(tenant) if tenant is not None else None
    return records is not None and bool(records.list(HOOKS))


def _absorbed(engine: Engine, tenant: Tenant, rows: list[Any]) -> None:
    """Another replica changed the tenant's webhooks: watch the new ones from their creation
    (what their jobs did since then is news)."""
    if not any(rtype == HOOKS for rtype, _, _ in rows):
        return
    records = org_records(tenant)
    known = engine.sendable(tenant.key)
    fresh = [parse_time(h["created_at"]) for h in records.list(HOOKS)
             if h["id"] not in known] if records is not None else []
    engine.watch(tenant, since=min(fresh) if fresh else None)


async def _keep_watermark(engine: Engine, keeper: SharedKeeper) -> None:
    """Write the watermark whenever everything found so far was attempted once."""
    while True:
        await asyncio.sleep(WATERMARK_EVERY)
        if engine.idle:
            try:
                await keeper.put_value(KEPT_AS, engine.kept())
            except Exception as exc:  # noqa: BLE001 - tried again next time
                log.warning("webhooks: the watermark was not kept: %s", exc)
