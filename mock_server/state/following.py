"""Following other replicas: a replica's copy of each tenant catches up with the database.

A notice (LISTEN) says another replica committed: the copy of that tenant is marked behind
(and, on the leader, caught up at once when the tenant has webhooks); admin changes and resets
are followed at once. Rows caught up on are published on the change feed as if made here. Part
of SharedKeeper (shared.py), which holds the state these methods use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..domain.changes import JobChanged
from ..domain.store import Tenant, TenantKey
from ..qa.journal import Journal
from . import codec
from .durable import DurableStore
from .groups import TenantGroups
from .peers import Peers, report
from .pg_rows import Caught
from .postgres import PostgresState, tenant_key
from .writer import GroupCommit


class Following:
    """The catching-up half of SharedKeeper."""

    backend: PostgresState
    me: str
    leading: bool
    now: Callable[[str], float]
    records_absorbed: Callable[[Tenant, list[Any]], None] | None
    commits: GroupCommit[Any]
    _store: DurableStore | None
    _journal: Journal | None
    _values: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]]
    _written: dict[str, bytes]
    _groups: TenantGroups
    _following: dict[TenantKey, asyncio.Future[None]]
    _admin: asyncio.Lock
    _latest: dict[TenantKey, int]
    _loop: asyncio.AbstractEventLoop | None
    _peers: Peers

    def _absorb(self, key: TenantKey, caught: Caught) -> None:
        store = self._store
        assert store is not None
        if not caught.exists:
            return
        before = store.peek(key)
        known = {(kind, job_id) for kind, job_id, _ in caught.jobs
                 if before is not None and before.get(kind, job_id) is not None}
        tenant = store.absorb(key, caught.counter, caught.rev, caught.jobs, caught.records,
                              caught.progress)
        self._latest[key] = max(self._latest.get(key, 0), caught.rev)
        tenant.behind = self._latest[key] > caught.rev
        if caught.records and self.records_absorbed is not None:
            self.records_absorbed(tenant, caught.records)
        now = self.now(key[0])
        for kind, job_id, raw in caught.jobs:  # what changed, as if it changed here
            job = tenant.get(kind, job_id)
            new = (kind, job_id) not in known  # new to this copy: all of it is news
            store.feed.publish(JobChanged(key[0], key, kind, job_id,
                                          1 if new or job is None else job.version, now,
                                          deleted=raw is None))
        fresh = {(kind, job_id) for kind, job_id, _ in caught.jobs} - known
        for kind, job_id, _ in caught.progress:  # counts alone (told already if it came new)
            job = tenant.get(kind, job_id)
            if job is not None and (kind, job_id) not in fresh:
                store.feed.publish(JobChanged(key[0], key, kind, job_id, job.version, now))

    async def _follow(self, key: TenantKey) -> None:
        """Catch one tenant's copy up with the database, to at least the newest revision heard
        of when called (concurrent readers share one catch-up)."""
        wanted = self._latest.get(key, 0)
        for _ in range(3):
            running = self._following.get(key)
            if running is None:
                running = self._following[key] = asyncio.ensure_future(self._catch_up(key))
                running.add_done_callback(lambda _: self._following.pop(key, None))
            await asyncio.shield(running)
            tenant = self._store.peek(key) if self._store is not None else None
            if tenant is None or tenant.rev >= wanted:  # type: ignore[attr-defined]
                return

    async def _catch_up(self, key: TenantKey) -> None:
        """One catch-up. No lock: a transaction of this replica on the tenant holds the
        database's lock, so its copy is already as new."""
        store = self._store
        assert store is not None
        for _ in range(3):
            tenant = store.peek(key)
            since = tenant.rev if tenant is not None else 0  # type: ignore[attr-defined]
            caught = await self.backend.run(self.backend.catch_up(key, since))
            tenant = store.peek(key)
            if since != (tenant.rev if tenant is not None else 0):  # type: ignore[attr-defined]
                continue  # the copy moved meanwhile: look again
            if caught.rev > since or not caught.exists:
                if caught.exists:
                    self._absorb(key, caught)
                elif tenant is not None and not self._busy(key):
                    store.drop(key)
            return

    def _busy(self, key: TenantKey) -> bool:
        return self._groups.busy(key)

    async def _follow_all(self) -> None:
        """Catch every tenant up, and the server-wide values (admin changes, resets)."""
        store = self._store
        assert store is not None
        revs = await self.backend.run(self.backend.revisions())
        for tenant in list(store.tenants()):
            if tenant.key not in revs and tenant.rev > 0 and not self._busy(tenant.key):  # type: ignore[attr-defined]
                store.drop(tenant.key)  # a reset dropped it
        for key, rev in revs.items():
            tenant = store.peek(key)
            if tenant is None or tenant.rev < rev:  # type: ignore[attr-defined]
                await self._follow(key)
        meta = await self.backend.run(self.backend.meta())
        for name, (_, restore) in self._values.items():
            raw = meta.get(name)
            if raw is not None and self._written.get(name) != raw:
                restore(codec.loads(raw))
                self._written[name] = raw

    def _heard(self, notice: dict[str, Any]) -> None:
        """A change notice (on the database loop): catch up on the server's loop."""
        if notice.get("r") == self.me or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._react, notice)

    def _react(self, notice: dict[str, Any]) -> None:
        store = self._store
        assert store is not None
        if self._peers.heard(notice):
            return
        task: asyncio.Future[Any] | None = None
        if "flush" in notice:
            task = asyncio.ensure_future(self.commits.flush())
        elif "t" in notice:  # heard is enough: its next reader or transaction catches up
            key, rev = tenant_key(notice["t"]), int(notice["v"])
            self._latest[key] = max(self._latest.get(key, 0), rev)
            tenant = store.peek(key)
            if tenant is not None and tenant.rev < rev:  # type: ignore[attr-defined]
                tenant.behind = True
            if notice.get("w") and self.leading:  # the leader sends its webhooks: now
                task = asyncio.ensure_future(self._follow(key))
        else:
            for ns in notice.get("c", ()):
                for tenant in list(store.tenants(ns)):
                    if not self._busy(tenant.key):  # a busy one finds out in its transaction
                        store.drop(tenant.key)
                if self._journal is not None:  # the database's rows went with the reset
                    noted, self._journal.cleared = self._journal.cleared, None
                    self._journal.clear(ns)
                    self._journal.cleared = noted
            task = asyncio.ensure_future(self._follow_admin())
        token = notice.get("k")  # the writer answers its client once every replica has it
        if task is None:
            if token is not None:
                self._peers.acknowledge(token)
            return
        task.add_done_callback(report)
        if token is not None:
            task.add_done_callback(lambda _: self._peers.acknowledge(token))

    async def _follow_admin(self) -> None:
        async with self._admin:
            await self._follow_all()
