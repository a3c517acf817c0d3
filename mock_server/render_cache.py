"""One cache of rendered answers about ended jobs: kept while what they were made of holds.

A job that has ended renders the same at every later instant, except for its download link,
which is signed once per virtual second (`records.simulation.files.link_window`). So a rendering
made at `now` holds while:

- the store is the same generation (no reset dropped the tenant since: `Store.generation`);
- the job is still stored at the same version (every change bumps it: `domain/jobs.change`);
- the read is in the same link window, and not before the job ended (a namespace whose own
  clock was dropped goes back to the server's time).

Two users: the fast path (`fast_path.py`) keeps whole answers of `GET /api/{jobs}/{id}`, and
list pages keep each ended job's encoded resource object. Nothing else decides whether a
rendering is still good.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from .domain.lifecycle import View
from .domain.store import Job, Store, Tenant
from .records.simulation.files import link_window

MAX_ENTRIES = 8192  # oldest dropped first; an entry is one rendering (~1.5–2 KB) and its key


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a rendering of an ended job was made of."""

    generation: int
    tenant: Tenant  # the store's while the generation holds (only a reset replaces tenants)
    job: Job
    version: int
    ended_at: float
    window: int

    @classmethod
    def of(cls, store: Store, tenant: Tenant, job: Job, seen: View, now: float) -> Stamp | None:
        """The stamp of `job` as `seen` at `now`; None while it may still change with time."""
        if seen.ended_at is None or job.version < 1:
            return None  # pending, running, stopping (or not stored yet)
        return cls(store.generation, tenant, job, job.version, seen.ended_at, link_window(now))

    @property
    def namespace(self) -> str:
        """The namespace of the job (whose clock says what `now` is for it)."""
        return self.tenant.key[0]

    def holds(self, store: Store, now: float) -> bool:
        """True while the store, the job and the time still give the rendering stamped."""
        job, tenant = self.job, self.tenant
        return not tenant.behind and tenant.get(job.kind, job.id) is job \
            and self.fits(job, store.generation, link_window(now), now)

    def fits(self, job: Job, generation: int, window: int, now: float) -> bool:
        """True if `job` (as its tenant stores it now) is the one stamped, at the same version,
        in store `generation` and link `window`, ended by `now`: `holds` without the tenant."""
        return job is self.job and job.version == self.version and window == self.window \
            and generation == self.generation and self.ended_at <= now


def _nothing(key: Hashable, job: Job) -> None:
    return None


class RenderCache:
    """Renderings by key (the caller's: what else the rendering depends on), each with its stamp."""

    __slots__ = ("store", "size", "_entries", "_generation")

    def __init__(self, store: Store, size: int = MAX_ENTRIES) -> None:
        self.store = store
        self.size = size
        self._entries: dict[Hashable, tuple[Stamp, Any]] = {}
        self._generation = store.generation

    def get(self, key: Hashable, now: float) -> Any | None:
        """The rendering kept under `key` if it still holds at `now` (else it is dropped)."""
        found = self.entry(key)
        if found is None:
            return None
        if found[0].holds(self.store, now):
            return found[1]
        self.drop(key)
        return None

    def entry(self, key: Hashable) -> tuple[Stamp, Any] | None:
        """The stamp and rendering kept under `key`, not yet checked (see `Stamp.holds`): for a
        caller that needs the rendering's namespace to know what `now` is."""
        if not self._current():
            return None
        return self._entries.get(key)

    def _current(self) -> bool:
        """False (and everything let go) when a reset made the store a new generation."""
        if self._generation != self.store.generation:
            self._entries.clear()
            self._generation = self.store.generation
            return False
        return True

    def reader(self, tenant: Tenant, now: float) -> Callable[[Hashable, Job], Any | None]:
        """`get` for many jobs of one tenant read at one `now` (a list page): what
        `Stamp.holds` asks of the store, the tenant and the time is asked once here, and of
        each job (passed as the tenant stores it now) only `Stamp.fits`."""
        if not self._current() or tenant.behind:
            return _nothing
        entries, generation, window = self._entries, self.store.generation, link_window(now)

        def get(key: Hashable, job: Job) -> Any | None:
            found = entries.get(key)
            if found is None:
                return None
            if found[0].fits(job, generation, window, now):
                return found[1]
            entries.pop(key, None)
            return None

        return get

    def drop(self, key: Hashable) -> None:
        """Forget what is kept under `key`."""
        self._entries.pop(key, None)

    def put(self, key: Hashable, stamp: Stamp, value: Any) -> None:
        """Keep a rendering under `key` (the oldest goes when full)."""
        entries = self._entries
        if key not in entries and len(entries) >= self.size:
            entries.pop(next(iter(entries)), None)
        entries[key] = (stamp, value)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Hashable]:
        """The keys kept now, oldest first."""
        return list(self._entries)
