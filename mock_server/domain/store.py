"""Store: namespace/tenant → job type → insertion-ordered jobs. No aiohttp, no clock reads.

The storage seam. Handlers, the records simulation and QA reach stored jobs only through these
methods, so a durable store can stand behind them without touching any of those:

- `Store`: `tenant(key)` (created on first use, fixtures loaded), `peek`, `tenants`,
  `clear(namespace)`, `ids` (the server's id sequence), `generation` (bumped by every clear),
  `feed` (change events, changes.py);
- `Tenant`: `get`, `add` (a new job), `put` (a changed job, checked against the version it was
  read at), `remove`, `count`, `page`, `scan` (a kind's jobs in creation order), `new_id`.

This module is the in-memory implementation: `put` has nothing to write (the job is the stored
object) but still refuses a job that is gone or was changed by someone else.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..scenarios.scenario import Scenario

from ..jsonenc import Encoded, dumps_kept, loads_own
from .changes import ChangeFeed
from .errors import TooManyRequests
from .lifecycle import Plan
from .results import ExportFile, Run

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order

TenantKey = tuple[str, ...]  # (namespace, vendor, tenant id[, mode])
# Id numbers a shared database reserved for the current request (replicas never collide).
RESERVED: ContextVar[list[int] | None] = ContextVar("reserved_job_ids", default=None)


def _b62(n: int, width: int) -> str:
    """`n` in base 62, at least `width` digits (more rather than wrapping round)."""
    out = []
    while n or len(out) < width:
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(reversed(out))


class IdSequence:
    """Job ids of one server: one counter that no namespace, tenant or reset rewinds.

    Real Commerce Layer and Rackspace ids are unique, and clients cache jobs by id, so an id is
    never handed out twice. The same seed and the same requests still give the same ids. The
    first 62**4 (14.7 million) keep the vendor's 10 characters and sort in creation order.
    """

    __slots__ = ("seed", "issued", "_lock")

    def __init__(self, seed: int, issued: int = 0) -> None:
        self.seed = seed
        self.issued = issued  # how many ids were handed out (a durable store keeps this)
        self._lock = threading.Lock()

    def next(self, key: TenantKey, rackspace: bool = False) -> str:
        """A fresh id that sorts after every earlier one (so sort=id is creation order)."""
        reserved = RESERVED.get()
        if reserved is not None:  # numbers a shared database handed out to this request
            if not reserved:
                raise RuntimeError("no job id was reserved for this request")
            n = reserved.pop(0)
        else:
            with self._lock:
                self.issued += 1
                n = self.issued
        digest = hashlib.sha256(f"{self.seed}/{'/'.join(key)}/{n}".encode()).digest()
        if rackspace:  # UUID-v1-looking, as the Rackspace examples show
            hexed = digest.hex()
            return f"{n:08x}-{hexed[:4]}-11e4-{hexed[4:8]}-{hexed[8:20]}"
        tail = "".join([_B62[b % 62] for b in digest[:6]])  # byte i == hexdigest pair i
        return _b62(n, 4) + tail


class Packed(Encoded):
    """A JSON value kept as compact bytes: an import's 10 input rows take ~0.8 KB, not ~4 KB
    decoded, and ~0.15 KB once its import has ended (`deflate`: read only to render it again,
    which the render cache mostly spares, or to download it). Answers splice it as it is (it
    is `Encoded`): its text is worked out only when an answer is encoded, not when a list
    scans the attributes of every job for a filter."""

    __slots__ = ("_data",)

    def __init__(self, raw: bytes) -> None:
        self._data = raw  # the JSON text, or _DEFLATED + its raw deflate stream (one attribute:
        # a reader on another thread sees the one or the other, never half of a change)

    @property
    def raw(self) -> bytes:
        """The JSON text."""
        data = self._data
        return zlib.decompress(memoryview(data)[1:], -15) if data[:1] == _DEFLATED else data

    def deflate(self) -> None:
        """Keep the text compressed from now on (~5 µs once; ~2 µs each time `raw` is read)."""
        data = self._data
        if data[:1] != _DEFLATED and len(data) > _WORTH_DEFLATING:
            self._data = _DEFLATED + zlib.compress(data, 1, -9)  # a 512-byte window: JSON rows
            # repeat their keys within it, and it costs a tenth of the default's set-up

    def value(self) -> Any:
        """A fresh copy of the value (changing it changes nothing stored)."""
        return loads_own(self.raw)


_DEFLATED = b"\0"  # JSON text never begins with a NUL byte
_WORTH_DEFLATING = 128


# Create attributes stored packed (an import's rows, a JSON list or a CSV text, dominate job
# memory; packed, a response splices them as they are and the encoder never reserves room for
# escaping a long text: ~9× its length, which a journal entry would otherwise keep).
PACKED_FIELDS = frozenset({"inputs"})


class Fields(dict[str, Any]):
    """A job's user attributes; packed values read back as plain values through [] and get().

    items() and values() show the Packed objects themselves (renderers splice their bytes).
    """

    __slots__ = ()

    @classmethod
    def packing(cls, given: dict[str, Any]) -> Fields:
        """The given attributes with the bulky ones packed."""
        out = cls(given)
        for name in PACKED_FIELDS & out.keys():
            if isinstance(out[name], list | str):
                dict.__setitem__(out, name, Packed(dumps_kept(dict.__getitem__(out, name))))
        return out

    def deflate(self) -> None:
        """Keep the packed values compressed (their job has ended: see Packed.deflate)."""
        for value in dict.values(self):
            if value.__class__ is Packed:
                value.deflate()

    def __getitem__(self, name: str) -> Any:
        value = dict.__getitem__(self, name)
        return value.value() if isinstance(value, Packed) else value

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """Like dict.get, unpacking packed values."""
        value = dict.get(self, name, default)
        return value.value() if isinstance(value, Packed) else value


@dataclass(slots=True)
class Job:
    """A job as stored: its plan and what the user gave; status is never stored."""

    id: str
    kind: str
    created_at: float
    plan: Plan
    fields: dict[str, Any]  # user attributes (resource_type, filters, reference, metadata, …)
    updated_at: float
    past: tuple[tuple[str, float], ...] = ()  # transitions of plans replaced by a restart
    changes: list[tuple[float, dict[str, Any]]] | None = None  # versions: (at, changed fields)
    version: int = 0  # 0 while being created; 1 once stored; +1 on every change (jobs.py)
    scenario: Scenario | None = None  # the QA fate given to it (scenarios/attach.py)
    run: Run | None = None  # how far its item effects got (imports, cleanups: records simulation)
    file: ExportFile | None = None  # an export's file, built at creation (records simulation)
    marks: frozenset[str] = frozenset()  # facts that stay once true (Rackspace: "errorful")


class TenantRecords(Protocol):
    """What a tenant's records (set up by the records simulation) offer the domain."""

    def wake(self, job: Job) -> None:
        """The job's plan changed: look at when its effects are due again."""

    def tracks(self, job: Job) -> bool:
        """True while the job's item effects still run (a durable store keeps this)."""

    def track(self, job: Job) -> None:
        """Apply a job's item effects from now on (a job restored from storage)."""

    def untrack(self, job_id: str) -> None:
        """Stop applying a job's item effects (it was replaced or removed from storage)."""

    def due_by(self, now: float) -> bool:
        """True when some job effect is due by `now` (reading then changes the records)."""


class VersionConflict(RuntimeError):
    """A job was put back after someone else changed or removed it."""


@dataclass(slots=True)
class Tenant:
    """All data of one organization (or Rackspace project) in one namespace."""

    key: TenantKey
    ids: IdSequence  # the server's, shared by every tenant
    feed: ChangeFeed = field(default_factory=ChangeFeed)  # the server's, shared likewise
    jobs: dict[str, dict[str, Job]] = field(default_factory=dict)
    records: TenantRecords | None = None  # target records, set up by the records simulation
    lock: threading.RLock = field(default_factory=threading.RLock)
    unordered: set[str] = field(default_factory=set)  # kinds stored out of created_at order
    behind: bool = False  # a copy that another replica changed since (read it again first)

    def new_id(self, rackspace: bool = False) -> str:
        """A job id never handed out before by this server."""
        return self.ids.next(self.key, rackspace)

    def _rows(self, kind: str) -> dict[str, Job]:
        return self.jobs.setdefault(kind, {})

    def add(self, job: Job) -> Job:
        """Store a new job."""
        rows = self._rows(job.kind)
        if rows and job.kind not in self.unordered:
            if job.created_at < rows[next(reversed(rows))].created_at:
                self.unordered.add(job.kind)
        rows[job.id] = job
        return job

    def in_creation_order(self, kind: str) -> bool:
        """True while created_at never decreases in storage order (created_at sorts are slices)."""
        return kind not in self.unordered

    def get(self, kind: str, job_id: str) -> Job | None:
        """One job by id, O(1)."""
        return self.jobs.get(kind, {}).get(job_id)

    def put(self, job: Job, expected: int, counts_only: bool = False) -> None:
        """Store a changed job that was at version `expected` when it was read (`counts_only`:
        nothing but its run's counts and its version changed)."""
        stored = self.jobs.get(job.kind, {}).get(job.id)
        if stored is None:
            raise VersionConflict(f"{job.kind} {job.id} is no longer stored")
        if stored is not job and stored.version != expected:
            raise VersionConflict(f"{job.kind} {job.id} is at version {stored.version}, "
                                  f"not {expected}")

    def count(self, kind: str) -> int:
        """How many jobs of a type are stored."""
        return len(self.jobs.get(kind, ()))

    def scan(self, kind: str, newest_first: bool = False) -> Iterator[Job]:
        """Every job of a type in creation order (or the reverse), without copying them."""
        rows = self.jobs.get(kind, {}).values()
        return reversed(rows) if newest_first else iter(rows)

    def page(self, kind: str, start: int, size: int, newest_first: bool = False) -> list[Job]:
        """Jobs `start` to `start + size` in creation order (or the reverse): O(start + size)."""
        return list(islice(self.scan(kind, newest_first), start, start + size))

    def replanned(self, job: Job) -> None:
        """A job's plan changed: whoever schedules its effects (the records simulation) looks at
        it again. Called by `jobs.change`."""
        if self.records is not None:
            self.records.wake(job)

    def remove(self, kind: str, job_id: str) -> Job | None:
        """Delete a job; returns it, or None if there was none."""
        return self.jobs.get(kind, {}).pop(job_id, None)

    def records_changed(self) -> None:
        """Records changed with no job write (webhooks, their callbacks): a durable store
        writes them with the next batch. Nothing to do in memory."""


class Store:
    """Tenants by key, created on first use and seeded by an optional loader (fixtures)."""

    def __init__(self, seed: int, loader: Callable[[Tenant], None] | None = None) -> None:
        """`loader` fills a tenant the first time it is used (the records simulation's fixtures)."""
        self.seed = seed
        self.loader = loader
        # Gives a tenant restored from storage its empty records (the records simulation's).
        self.reviver: Callable[[Tenant], None] | None = None
        self.loader_jobs = 0  # at most how many jobs `loader` creates in a tenant
        self.ids = IdSequence(seed)  # outlives every tenant: a reset never rewinds it
        self.feed = ChangeFeed()  # every job change and clock move (changes.py)
        self._tenants: dict[TenantKey, Tenant] = {}
        self._lock = threading.Lock()
        self.generation = 0  # +1 whenever tenants are forgotten (what was derived from them goes)
        self.max_tenants = 0  # tenants held at once; a new one beyond is refused (0: no cap)

    def tenant(self, key: TenantKey) -> Tenant:
        """The tenant for a key, loading fixtures the first time it is seen; 429 when
        `max_tenants` are held already."""
        found = self._tenants.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._tenants.get(key)
            if found is None:
                if 0 < self.max_tenants <= len(self._tenants):
                    raise TooManyRequests(
                        f"This mock holds {self.max_tenants:,} organizations and projects at "
                        f"once (setting max_tenants): reset a namespace (POST /_mock/reset) "
                        f"or raise max_tenants.")
                found = self.new_tenant(key)
                if self.loader is not None:
                    self.loader(found)
                self._tenants[key] = found
        return found

    def new_tenant(self, key: TenantKey) -> Tenant:
        """An empty tenant (a durable store returns one that writes through)."""
        return Tenant(key, self.ids, self.feed)

    def peek(self, key: TenantKey) -> Tenant | None:
        """The tenant for a key if it exists now (never creates one)."""
        return self._tenants.get(key)

    def tenants(self, namespace: str | None = None) -> Iterator[Tenant]:
        """Every tenant, or those of one namespace."""
        return (t for k, t in list(self._tenants.items()) if namespace is None or k[0] == namespace)

    def clear(self, namespace: str | None = None) -> int:
        """Forget tenants (all, or one namespace's); fixtures reload on next use."""
        with self._lock:
            doomed = [k for k in self._tenants if namespace is None or k[0] == namespace]
            for k in doomed:
                del self._tenants[k]
            self.generation += 1
        return len(doomed)
