"""Keeper: a served app's state kept in a backend, restored at start-up, written as it changes.

What is kept is what decides a future answer: the store's tenants, jobs and records
(durable.py), the journal, and the server-wide values registered with `keep` (clock anchors, id
counter, fault and scenario rules, rate-limit windows), each written when its stored form
changed. Writes go through one GroupCommit; a request with a write method gets its answer only
once what it changed is committed (`middleware`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from ..qa.journal import Journal
from . import codec
from .durable import Batch, DurableStore, Loaded
from .errors import NotSaved
from .writer import JOURNAL_EVERY, GroupCommit, StateWriteError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Backend(Protocol):
    """Where state is kept (sqlite.py, postgres.py)."""

    kind: str

    def load(self) -> Loaded:
        """Everything stored, in the order it was written."""

    def write(self, batch: Batch) -> None:
        """Commit one batch, all or nothing."""

    def info(self) -> dict[str, Any]:
        """What is stored, for `mock-server state info`."""

    def reset(self) -> None:
        """Forget everything stored."""

    def close(self) -> None:
        """Release the backend (its lock, its connections)."""


class Keeper:
    """Restores and writes one app's state through a backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.loaded: Loaded | None = backend.load()
        self._values: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self._written: dict[str, bytes] = dict(self.loaded.meta)
        self._store: DurableStore | None = None
        self._journal: Journal | None = None
        self._journal_seq = 0
        self._journal_at = 0.0  # when the journal was last collected (monotonic)
        self._closing = False
        self.commits: GroupCommit[Batch] = GroupCommit(self._collect, backend.write, self._retry)

    def kept(self, name: str) -> Any:
        """A server-wide value as loaded (None when none was kept), e.g. the clock's anchors."""
        raw = self.loaded.meta.get(name) if self.loaded is not None else None
        return None if raw is None else codec.loads(raw)

    def keep(self, name: str, get: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        """Keep a server-wide value: restored now if one was kept, written when `get()` changes."""
        self._values[name] = (get, restore)
        value = self.kept(name)
        if value is not None:
            restore(value)

    def attach(self, store: DurableStore, journal: Journal) -> None:
        """Restore the store and the journal, then keep them."""
        loaded = self.loaded
        assert loaded is not None
        store.restore(loaded)
        journal.restore(e for raw in loaded.journal for e in codec.decode_block(raw))
        journal.cleared = []
        self._journal_seq = journal.last
        store.marks.wake = self.commits.poke
        self._store, self._journal = store, journal
        self.loaded = None  # what was loaded now lives in the store

    # ---- writing -------------------------------------------------------------------------

    def _collect(self) -> Batch:
        batch = Batch()
        if self._store is not None:
            self._store.collect(batch)
        for name, (get, _) in self._values.items():
            raw = codec.dumps(get())
            if self._written.get(name) != raw:
                batch.meta[name] = self._written[name] = raw
        now = time.monotonic()
        if self._journal is not None and (self._closing or now - self._journal_at >= JOURNAL_EVERY):
            self._journal_at = now
            fresh, oldest, cleared = self._journal.since(self._journal_seq)
            batch.journal_cleared = cleared
            if fresh:
                batch.journal = codec.journal_blocks(fresh)
                self._journal_seq = fresh[-1].seq
                batch.journal_oldest = {e.namespace: oldest[e.namespace] for e in fresh
                                        if e.namespace in oldest}
        return batch

    def _retry(self, batch: Batch) -> None:
        if self._store is not None:
            self._store.retry(batch)
        for name in batch.meta:
            self._written.pop(name, None)
        if batch.journal:
            self._journal_seq = min(self._journal_seq, *(b.first - 1 for b in batch.journal))
        if batch.journal_cleared and self._journal is not None:
            self._journal.cleared = batch.journal_cleared + (self._journal.cleared or [])

    async def start(self, app: web.Application | None = None) -> None:
        """Start writing (an aiohttp on_startup callback)."""
        self.commits.start()
        self.commits.poke()  # what start-up changed (fixtures of restored tenants, rules)

    async def close(self, app: web.Application | None = None) -> None:
        """Write what is left and release the backend (an aiohttp on_cleanup callback)."""
        self._closing = True  # the journal's last entries go too
        try:
            await self.commits.close()
        finally:
            self.backend.close()

    async def commit(self, request: web.Request) -> None:
        """After a route answered: a write's changes are committed before it is answered
        (the pipeline calls this); reads wait for nothing."""
        if request.method not in SAFE_METHODS:
            try:
                await self.commits.flush()
            except StateWriteError as exc:
                raise NotSaved(f"The change could not be saved ({exc}); it may or may "
                               f"not apply: read the resource again before retrying."
                               ) from None
