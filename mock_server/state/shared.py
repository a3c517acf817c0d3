"""SharedKeeper: several replicas on one PostgreSQL database behave as one server.

Each replica keeps a copy of every tenant in memory and serves reads from it. A request that
changes a tenant (a write, a read that applies due job effects, the first use of a tenant) runs
inside a transaction holding that tenant's lock: the copy catches up on what other replicas
wrote, the handler runs unchanged, and what it changed is written, announced and committed
before the answer goes out. Admin changes (clock, rules, resets, job scenarios) hold the lock
every tenant write shares; requests for one tenant share a transaction (groups.py). Other
replicas hear each commit (LISTEN), mark their copy behind and acknowledge (peers.py); the writer
answers once every live replica has acknowledged, and a copy that is behind catches up before
its next read, so a client that got its answer reads the change through any replica (one gone
from `pg_stat_activity` is no longer waited for). One replica, the leader, sends webhooks
(`on_lead`): it follows the tenants with webhooks as soon as they change, and what it absorbs
is published on the change feed like a change made here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web

from ..domain.errors import MockError, NotFound
from ..domain.store import RESERVED, Tenant, TenantKey
from ..qa.journal import Journal
from ..qa.ratelimit import Verdict, Window
from . import codec
from .durable import Batch, DurableStore
from .errors import NotSaved
from .following import Following
from .groups import Handler, Item, TenantGroups, run_handlers
from .peers import Ack, Peers, report
from .postgres import PostgresState
from .writer import JOURNAL_EVERY, GroupCommit

log = logging.getLogger("mock_server.state")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LEAD_RETRY = 1.0  # real seconds between tries to take the lead while another replica holds it
T = TypeVar("T")


class SharedKeeper(Following):
    """Keeps one replica's copy in step with the shared database."""

    def __init__(self, backend: PostgresState, journal_size: int) -> None:
        self.backend = backend
        self.me = uuid.uuid4().hex[:12]  # who sent a change notice
        backend.journal_size = journal_size
        self._values: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self._written: dict[str, bytes] = {}
        self._store: DurableStore | None = None
        self._journal: Journal | None = None
        self._journal_seq = 0
        self._groups = TenantGroups(self._run_group)
        self._following: dict[TenantKey, asyncio.Future[None]] = {}  # catch-ups under way
        self.now: Callable[[str], float] = lambda namespace: 0.0  # the virtual clock's, set by the app
        self._admin = asyncio.Lock()
        self._latest: dict[TenantKey, int] = {}  # newest revision heard of, per tenant
        self._loop: asyncio.AbstractEventLoop | None = None
        self._peers = Peers(backend, self.me)
        self.fixture_jobs = 0  # ids a new tenant's fixture takes
        # the journal: a listing on any replica has every replica write theirs first
        self.commits: GroupCommit[Batch] = GroupCommit(self._collect_journal, backend.write,
                                                       lambda batch: None, idle=JOURNAL_EVERY)
        # the lead (one replica sends webhooks): `on_lead` runs once this replica has it;
        # `watched(key)` says a tenant's writes are followed by the leader at once
        self.on_lead: Callable[[], Awaitable[None]] | None = None
        self.watched: Callable[[TenantKey, Batch], bool] = lambda key, batch: False
        # what the copy absorbed of a tenant's records (rows: type, id, body or None)
        self.records_absorbed: Callable[[Tenant, list[Any]], None] | None = None
        self.leading = False
        self._seeking: asyncio.Task[None] | None = None

    # ---- set-up ----------------------------------------------------------------------------

    def keep(self, name: str, get: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        """Share a server-wide value: restored now, written by admin changes, followed after."""
        self._values[name] = (get, restore)
        mine = codec.dumps(get())
        raw = self.backend.call(self.backend.adopt(name, mine))
        if raw != mine:
            restore(codec.loads(raw))
        self._written[name] = raw

    def attach(self, store: DurableStore, journal: Journal) -> None:
        """Copy every stored tenant into `store`; `journal`'s entries go to the database."""
        self._store, self._journal = store, journal
        for key in self.backend.call(self.backend.revisions()):
            self._absorb(key, self.backend.call(self.backend.catch_up(key, 0)))
        store.marks.jobs, store.marks.tenants, store.marks.cleared = {}, {}, []
        journal.cleared = []  # clears are noted from now on

    async def start(self, app: web.Application | None = None) -> None:
        """Listen for other replicas' changes and start the journal writer."""
        self._loop = asyncio.get_running_loop()
        await self.backend.run_there(self.backend.listen(self._heard, self.me))
        await self.backend.serve_here()
        await self._peers.look()
        await self.backend.run(self.backend.notify({"r": self.me, "hello": 1}))
        self.commits.start()
        if self.on_lead is not None:
            self._seeking = asyncio.ensure_future(self._seek_lead())
            self._seeking.add_done_callback(report)

    async def close(self, app: web.Application | None = None) -> None:
        """Write the journal's last entries and close the database connections."""
        if self._seeking is not None:
            self._seeking.cancel()
            await asyncio.gather(self._seeking, return_exceptions=True)
        try:
            await self.commits.close()
            await self.backend.run(self.backend.notify({"r": self.me, "bye": 1}))
            await self.backend.leave_here()
        finally:
            self.backend.close()

    # ---- the lead: one replica sends webhooks ----------------------------------------------

    async def _seek_lead(self) -> None:
        """Take the lead as soon as no live replica holds it (at start, or when the leader
        dies), catch up on everything, then run `on_lead`."""
        assert self.on_lead is not None
        while True:
            try:
                if await self.backend.run_there(self.backend.try_lead()):
                    break
            except Exception as exc:  # noqa: BLE001 - the database is away: try again
                log.warning("mock-server: cannot ask for the webhook lead: %s", exc)
            await asyncio.sleep(LEAD_RETRY)
        self.leading = True
        await self._follow_admin()
        await self.on_lead()

    async def put_value(self, name: str, value: Any) -> None:
        """Write a server-wide value only this replica writes (the leader's webhook
        watermark), without the admin lock and without telling the others."""
        raw = codec.dumps(value)
        if self._written.get(name) != raw:
            await self.backend.run(self.backend.put_meta(name, raw))
            self._written[name] = raw

    async def change(self, key: TenantKey, fn: Callable[[Tenant | None], T]) -> T:
        """Apply a change the server makes itself (a webhook delivery's records) to a tenant
        in its transaction, as a request would: on the caught-up copy, committed and shared
        before this returns."""
        out: list[T] = []

        async def apply(request: Any, call: Any) -> web.StreamResponse:
            out.append(fn(self._store.peek(key) if self._store is not None else None))
            return web.Response()

        await self._groups.submit(key, None, None, apply)
        return out[0]

    # ---- the journal: each replica writes its own, anyone lists all ------------------------

    def _collect_journal(self) -> Batch:
        batch = Batch()
        if self._journal is not None:
            fresh, _, cleared = self._journal.since(self._journal_seq)
            self._journal.cleared = cleared + (self._journal.cleared or [])  # admin changes'
            if fresh:
                batch.journal = codec.journal_blocks(fresh)
                self._journal_seq = fresh[-1].seq
        return batch

    async def journal(self, namespace: str | None) -> list[Any]:
        """Every replica's journal entries (numbered in the database's order), oldest first."""
        await self.commits.flush()
        if self._peers.live:  # every replica writes what it journaled so far, then says so
            ack = self._peers.expect()
            await self.backend.run(self.backend.notify({"r": self.me, "k": ack.token,
                                                        "flush": 1}))
            await self._peers.wait(ack)
        rows = await self.backend.run(self.backend.journal(namespace))
        kept: dict[str, list[Any]] = {}  # numbered in the database's order, bounded as in memory
        for row, raw in rows:
            for i, e in enumerate(codec.decode_block(raw)):
                kept.setdefault(e.namespace, []).append(replace(e, seq=row * codec.BLOCK_SIZE + i))
        entries = [e for group in kept.values() for e in group[-self.backend.journal_size:]]
        # replicas write their entries in batches: order by the (shared) virtual time of each
        # request, then by when it was written
        return sorted(entries, key=lambda e: (e.at, e.seq))

    # ---- rate limits: windows every replica counts in ------------------------------------------

    async def rate_limit(self, plan: list[tuple[tuple[str, ...], Window]], now: float
                         ) -> Verdict:
        """RateLimiter.shared: the verdict for one request from the shared windows (the same
        rule as `ratelimit.check_windows`)."""
        rows = [(key[0], "\x1f".join(key), w.limit, w.interval) for key, w in plan]
        admitted, seen = await self.backend.run(self.backend.count_rate(rows, now))
        if not admitted:
            for (used, oldest), (_, window) in zip(seen, plan, strict=True):
                if used >= window.limit:
                    wait = oldest + window.interval - now if oldest is not None \
                        else window.interval
                    return Verdict(False, window.limit, window.interval, 0, max(0.0, wait))
        worst = min(((w.limit - used - 1, w) for (used, _), (_, w) in zip(seen, plan, strict=True)),
                    key=lambda pair: pair[0])
        return Verdict(True, worst[1].limit, worst[1].interval, worst[0])

    # ---- requests --------------------------------------------------------------------------

    def route(self, key_of: Callable[[Any], TenantKey | None], admin: bool) -> Callable[[Handler], Handler]:
        """Wrap an operation's handler: `key_of(call)` names its tenant (None: no tenant)."""

        def wrap(handler: Handler) -> Handler:
            async def serve(request: web.Request, call: Any) -> web.StreamResponse:
                if admin:  # rare: reads catch up on everything first, so they agree at once
                    if request.method in SAFE_METHODS:
                        await self._follow_admin()
                        return await handler(request, call)
                    return await self._admin_change(request, call, handler)
                key = key_of(call)
                if key is None:
                    return await handler(request, call)
                key = (call.namespace, *key)
                return await self.serve_tenant(key, request, call, handler)

            return serve

        return wrap

    async def serve_tenant(self, key: TenantKey, request: web.Request, call: Any,
                           handler: Handler) -> web.StreamResponse:
        """Serve `handler` on one tenant: a read of a copy that is up to date (caught up first
        when behind) without a transaction; a write, or a read with effects due, in the
        tenant's next group."""
        store = self._store
        assert store is not None
        tenant = store.peek(key)
        if request.method in SAFE_METHODS and tenant is not None and tenant.behind:
            await self._follow(key)  # another replica wrote it since
            tenant = store.peek(key)
        if request.method in SAFE_METHODS and tenant is not None:
            records = tenant.records
            if records is None or not records.due_by(call.now):
                try:
                    return await handler(request, call)  # a read of an up-to-date copy
                except NotFound:
                    await self._follow(key)  # written through another replica just now?
                    return await handler(request, call)
        return await self._groups.submit(key, request, call, handler)

    async def _run_group(self, key: TenantKey, take: Callable[[], list[Item]]) -> None:
        """One transaction holding the tenant's lock for the requests waiting once it holds it
        (`take()`: those that came while another replica held the lock join this one); each is
        answered once it is committed and every live replica has it."""
        store = self._store
        assert store is not None
        tx = await self.backend.run(self.backend.lock(key))
        group = take()
        try:
            tenant = store.peek(key)
            since = tenant.rev if tenant is not None else 0  # type: ignore[attr-defined]
            # a create takes one id; a tenant's first use, its fixture's
            ids = sum(item.creates for item in group) + (self.fixture_jobs if tenant is None else 0)
            caught = await self.backend.run(self.backend.read(tx, since, ids))
            if caught.exists:
                self._absorb(key, caught)
            elif tenant is not None and since > 0:
                store.drop(key)  # reset through another replica: start afresh
            await run_handlers(group, list(tx.ids), self.now)  # ids from the database's sequence
        except BaseException:
            await self.backend.run(self.backend.rollback(tx))
            self._drop(key)  # the copy may hold what was never committed
            raise
        ack = await self._commit(tx, key)
        acked = asyncio.ensure_future(self._peers.wait(ack)) if ack is not None else None
        for item in group:
            item.settle(acked)

    async def _admin_change(self, request: web.Request, call: Any,
                            handler: Handler) -> web.StreamResponse:
        """Serve an admin change holding the lock every tenant write shares; answer once it is
        committed and every live replica has it."""
        ack: Ack | None = None
        try:
            async with self._admin:
                tx = await self.backend.run(self.backend.lock(None))
                try:
                    await self._follow_all()
                    token = RESERVED.set([])  # job ids come only from the database's sequence
                    try:
                        resp = await handler(request, call)
                    finally:
                        RESERVED.reset(token)
                except MockError:
                    ack = await self._commit(tx, None)
                    raise
                except BaseException:
                    await self.backend.run(self.backend.rollback(tx))
                    self._drop(None)
                    raise
                ack = await self._commit(tx, None)
            return resp
        finally:
            if ack is not None:  # outside the lock: the other replicas take theirs to follow
                await self._peers.wait(ack)

    async def _commit(self, tx: Any, key: TenantKey | None) -> Ack | None:
        """Write what the request changed; returns what to wait for (the replicas' acks)."""
        store = self._store
        assert store is not None
        batch = Batch()
        store.collect(batch, only=key)
        if key is None:
            for name, (get, _) in self._values.items():
                raw = codec.dumps(get())
                if self._written.get(name) != raw:
                    batch.meta[name] = self._written[name] = raw
            if self._journal is not None:
                _, _, batch.journal_cleared = self._journal.since(self._journal.last)
        ack = self._peers.expect()
        try:
            watched = key is not None and self.watched(key, batch)
            revs, told = await self.backend.run(self.backend.commit(tx, batch, self.me,
                                                                    ack.token, watched))
        except Exception as exc:  # noqa: BLE001 - the client must not take it as done
            self._peers.forget(ack)
            log.error("mock-server: state not written: %s", exc)
            self._drop(key)
            raise NotSaved(f"The change could not be saved ({exc}); read the resource again "
                           f"before retrying.") from None
        for k, rev in revs.items():
            tenant = store.peek(k)
            self._latest[k] = max(self._latest.get(k, 0), rev)
            if tenant is not None:
                tenant.rev = rev  # type: ignore[attr-defined]
                tenant.behind = self._latest[k] > rev
        if not told or not ack.waiting:
            self._peers.forget(ack)
            return None
        return ack

    def _drop(self, key: TenantKey | None) -> None:
        """Forget a copy that may differ from the database (it is read again on next use)."""
        store = self._store
        assert store is not None
        if key is None:
            store.forget(None)
        else:
            store.drop(key)
