"""Engine: each webhook event at the virtual instant of its transition, sent in time order.

Job state is computed lazily from a plan and the clock, so nothing "happens" when a job
completes. The engine keeps, per namespace, a heap of the next instant at which a watched job
passes a transition (re-planned when the job changes or a clock moves); when the clock reaches
it, every transition up to now is turned into events, all events of the step are sorted by
instant, and each goes to the webhooks subscribed to its topic. A frozen clock delivers nothing
until it moves; an hour's advance delivers each transition once, in order.

Sending never touches the request path: sender.py sends (in order per receiver, retried on
the clock, cut off by the circuit breaker); this module decides what is due and when. Only
Commerce Layer tenants have webhooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..domain.changes import Change, JobChanged
from ..domain.lifecycle import transitions
from ..jsonenc import dumps_kept
from ..records.simulation.org import org_records
from ..timefmt import cl_time
from .deliveries import (
    PENDING,
    RETRYING,
    Delivery,
    DeliveryLog,
)
from .policy import Policy
from .rules import DeliveryRules
from .sender import Sender
from .topics import Topics

if TYPE_CHECKING:
    from aiohttp import web

    from ..domain.clock import VirtualClock
    from ..domain.model import ResourceType
    from ..domain.store import Job, Store, Tenant, TenantKey
    from ..qa.journal import Journal

    Render = Callable[[Tenant, Job, float, dict[str, Any]], Any]

JobKey = tuple["TenantKey", str, str]  # (tenant, job type, id)
log = logging.getLogger("mock_server.webhooks")


class Engine:
    """Finds due transitions, and sends them to the subscribed webhooks."""

    def __init__(self, store: Store, clock: VirtualClock, types: Mapping[str, ResourceType],
                 topics: Topics, seed: int, render: Render, keeper: Any = None,
                 journal: Journal | None = None, policy: Policy | None = None,
                 rules: DeliveryRules | None = None) -> None:
        """`render(tenant, job, instant, webhook)`: the payload; `keeper`: a state file's (its
        commits are poked when a delivery changed records), None in memory; `journal`: where
        each attempt is noted (operation `webhook <topic>`); `policy`: retries, time limit and
        circuit; `rules`: delivery controls by rule."""
        self.store, self.clock, self.types, self.topics = store, clock, types, topics
        self.seed, self.render, self.keeper, self.journal = seed, render, keeper, journal
        self.log = DeliveryLog()
        # (tenant, job type) with a webhook an event of that type is sent to: the others' jobs
        # are not watched at all (a dead receiver whose circuit opened costs nothing)
        self._subscribed: set[tuple[TenantKey, str]] = set()
        self._by_topic: dict[TenantKey, dict[str, tuple[str, ...]]] = {}  # their webhook ids
        self._changes: deque[JobChanged] = deque()
        # per watched job: the latest instant turned into events, and the statuses at it
        self._seen: dict[JobKey, tuple[float, frozenset[str]]] = {}
        self._planned: dict[JobKey, float] = {}  # the instant each job is in the heap for
        self._heaps: dict[str, list[tuple[float, int, Any]]] = {}
        self._seq = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = 0  # steps under way (settle waits for 0)
        self._started = False
        self.policy, self.rules = policy or Policy(), rules or DeliveryRules()
        self.sender = Sender(store, clock, seed, self.log, self._schedule, self._reindex,
                             keeper, journal, self.policy, self.rules)
        self._steps = 0
        self.until: dict[str, float] = {}  # namespace → events found up to this instant
        self._since: dict[str, float] = {}  # the same, as a state file kept it
        self.inboxes: dict[str, list[dict[str, Any]]] = {}  # the built-in receiver's

    # --- wiring --------------------------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        """on_startup: the loop task, the HTTP client, and the webhooks already stored."""
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake = asyncio.Event()
        self.sender.start()
        for tenant in self.store.tenants():
            records = org_records(tenant)
            if records is not None and records.list("webhooks"):
                self.watch(tenant, since=self._since.get(tenant.key[0]))
                self.sender.resume(tenant)
        self.store.feed.subscribe(self.on_change)
        self._task = asyncio.create_task(self._run(), name="webhook engine")

    async def close(self, app: web.Application) -> None:
        """on_cleanup: stop finding and sending (what waits on the clock stays in the outbox)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.sender.close()

    def on_change(self, change: Change) -> None:
        """A change-feed subscriber (any thread): cheap unless the tenant has webhooks."""
        if isinstance(change, JobChanged):
            if (change.tenant, change.kind) not in self._subscribed:
                return
            self._changes.append(change)
        elif not any(self._heaps.values()):
            return  # a clock moved, and nothing waits for time
        self._poke()

    def _poke(self) -> None:
        if self._loop is None or self._wake is None:
            return
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    def watch(self, tenant: Tenant, since: float | None = None) -> None:
        """The tenant's webhooks changed: watch its jobs of every type a webhook is about.

        What those jobs went through before now is history (each webhook sends only what
        happens from its creation on): only their later transitions become events. At a
        restart, history ends where the engine had got to (`since`): what fell while the server
        was down is sent now.
        """
        if not self._started:  # a replica that does not send: the leader's engine watches
            return
        self.step()  # what was due before this change goes by the webhooks as they were
        records = org_records(tenant)
        hooks = records.list("webhooks") if records is not None else []
        before = {kind for key, kind in self._subscribed if key == tenant.key}
        self._index(tenant.key, hooks)
        now = self.clock.now(tenant.key[0]) if since is None else since
        for kind in {k for key, k in self._subscribed if key == tenant.key} - before:
            for job in tenant.scan(kind):  # newly watched: what they went through is history
                key = (tenant.key, kind, job.id)
                self._history(key, job, now, inclusive=True)
                self._plan(key)
        self._poke()

    def _index(self, tenant_key: TenantKey, hooks: Iterable[dict[str, Any]]) -> None:
        """Per topic, the webhooks an event is sent to: enabled, circuit closed."""
        by_topic: dict[str, list[str]] = {}
        for hook in hooks:
            if not hook.get("disabled_at") and hook.get("circuit_state") != "open":
                by_topic.setdefault(hook["topic"], []).append(hook["id"])
        self._by_topic[tenant_key] = {t: tuple(ids) for t, ids in by_topic.items()}
        self._subscribed = {(k, kind) for k, kind in self._subscribed if k != tenant_key}
        self._subscribed |= {(tenant_key, t.partition(".")[0]) for t in by_topic
                             if t.partition(".")[0] in self.topics.kinds}

    def _history(self, key: JobKey, job: Job, until: float, *, inclusive: bool) -> None:
        """Take the job's transitions up to `until` as already seen."""
        lc = self.types[key[1]].lifecycle
        for status, at in transitions(lc, job.plan, until):
            if at < until or inclusive:
                self._mark(key, status, at)

    def _is_new(self, key: JobKey, status: str, at: float) -> bool:
        upto, there = self._seen.get(key, (-math.inf, frozenset()))
        return at > upto or (at == upto and status not in there)

    def _mark(self, key: JobKey, status: str, at: float) -> None:
        upto, there = self._seen.get(key, (-math.inf, frozenset()))
        if at > upto:
            self._seen[key] = (at, frozenset((status,)))
        elif at == upto:
            self._seen[key] = (at, there | {status})

    # --- finding events ------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._sleep())
            except TimeoutError:
                pass
            self._wake.clear()
            self._busy += 1
            try:
                self.step()
            except Exception:  # noqa: BLE001 - one bad event must not stop every delivery
                log.exception("webhook engine: a step failed")
            finally:
                self._busy -= 1

    def _sleep(self) -> float | None:
        """Real seconds until the earliest planned instant (None: until something changes)."""
        clock = self.clock
        best: float | None = None
        for namespace, heap in self._heaps.items():
            if not heap:
                continue
            of = clock.of(namespace)
            if of.frozen:
                continue
            wait = max(0.0, (heap[0][0] - of.now()) / of.speed)
            best = wait if best is None else min(best, wait)
        return None if best is None else min(best + 0.001, 60.0)

    def step(self) -> None:
        """Everything due by now, in order of instant."""
        self._steps += 1
        if self._steps % 1024 == 0:
            self._sweep()
        clock = self.clock
        events: list[tuple[float, int, TenantKey, str, str, str]] = []
        while self._changes:
            change = self._changes.popleft()
            key = (change.tenant, change.kind, change.job_id)
            if change.deleted:
                self._seen.pop(key, None)
                self._planned.pop(key, None)
                topic = self.topics.on_delete.get(change.kind)
                if topic is not None:
                    events.append((change.at, next(self._seq), change.tenant, change.kind,
                                   change.job_id, topic))
                continue
            if key not in self._seen and change.version > 1:
                # a job no longer watched (it had ended) changed: what it went through before
                # this change was sent then; a transition the change itself made is new
                found = self._job(key)
                if found is not None:
                    self._history(key, found[1], change.at, inclusive=False)
            self._plan(key)
        for namespace, heap in self._heaps.items():
            now = clock.now(namespace)
            while heap and heap[0][0] <= now:
                _, _, item = heapq.heappop(heap)
                if isinstance(item, Delivery):
                    if item.status == RETRYING:  # not given up since (a circuit opened)
                        self.sender.enqueue(item)
                    elif item.status == PENDING:  # a delayed first attempt
                        self.sender.first(item)
                else:
                    self._planned.pop(item, None)
                    events.extend(self._due(item, now))
        events.sort()
        for at, _, tenant_key, kind, job_id, topic in events:
            self._fan_out(at, tenant_key, kind, job_id, topic)
        for namespace in {key[0] for key, _ in self._subscribed}:
            self.until[namespace] = clock.now(namespace)  # every transition before is sent

    def kept(self) -> dict[str, float]:
        """What a state file keeps: per namespace, the instant events were found up to (as
        restored, where this engine found none: a replica that does not send)."""
        return {**self._since, **self.until}

    @property
    def sending(self) -> bool:
        """Whether this engine runs (with replicas: whether this replica holds the lead)."""
        return self._task is not None

    @property
    def idle(self) -> bool:
        """Nothing found is waiting for its first attempt (`until` is safe to keep)."""
        return not self._changes and not self.sender.senders and not self._busy

    def sendable(self, tenant_key: TenantKey) -> set[str]:
        """The ids of the tenant's webhooks events are sent to (enabled, circuit closed)."""
        return {i for ids in self._by_topic.get(tenant_key, {}).values() for i in ids}

    def restore(self, kept: dict[str, float]) -> None:
        """A state file's `kept()`: after the restart, transitions since are sent."""
        self._since = {str(ns): float(at) for ns, at in kept.items()}

    def _sweep(self) -> None:
        """Forget jobs and tenants that are gone (a reset, a deleted namespace)."""
        store = self.store
        self._subscribed = {(k, kind) for k, kind in self._subscribed
                            if store.peek(k) is not None}
        self._by_topic = {k: v for k, v in self._by_topic.items() if store.peek(k) is not None}
        for key in [k for k in self._seen if self._job(k) is None]:
            del self._seen[key]

    def _job(self, key: JobKey) -> tuple[Tenant, Job] | None:
        tenant = self.store.peek(key[0])
        job = tenant.get(key[1], key[2]) if tenant is not None else None
        return None if job is None or tenant is None else (tenant, job)

    def _plan(self, key: JobKey) -> None:
        """Watch a job: schedule its next transition (now, if one is due already)."""
        found = self._job(key)
        if found is None or (key[0], key[1]) not in self._subscribed:
            return
        _, job = found
        lc = self.types[key[1]].lifecycle
        planned = [at for status, at in transitions(lc, job.plan, math.inf)
                   if self._is_new(key, status, at)]
        if planned:
            at = min(planned)
            if self._planned.get(key) != at:  # a job rewritten 8 times is planned once
                self._planned[key] = at
                heapq.heappush(self._heaps.setdefault(key[0][0], []), (at, next(self._seq), key))

    def _due(self, key: JobKey, now: float) -> Iterable[tuple[float, int, Any, str, str, str]]:
        """The job's transitions up to `now` not yet turned into events; plans the next."""
        found = self._job(key)
        if found is None:
            self._seen.pop(key, None)
            return []
        _, job = found
        lc = self.types[key[1]].lifecycle
        out = []
        ended = False
        for status, at in transitions(lc, job.plan, now):
            ended = ended or status in lc.terminal
            if not self._is_new(key, status, at):
                continue
            self._mark(key, status, at)
            topic = self.topics.by_status.get((key[1], status))
            if topic is not None:
                out.append((at, next(self._seq), key[0], key[1], key[2], topic))
        if not ended:  # an ended job stays seen: a later change (a PATCH) sends nothing again
            self._plan(key)
        return out

    def _fan_out(self, at: float, tenant_key: TenantKey, kind: str, job_id: str,
                 topic: str) -> None:
        """One event to every webhook of the tenant subscribed to its topic."""
        tenant = self.store.peek(tenant_key)
        records = org_records(tenant) if tenant is not None else None
        if records is None:
            return
        subscribed = self._by_topic.get(tenant_key, {}).get(topic)
        if not subscribed:
            return
        job = tenant.get(kind, job_id) if tenant is not None else None
        bodies: dict[Any, bytes] = {}  # one rendering per event and payload shape
        stamp = cl_time(at)
        for hook_id in subscribed:
            hook = records.get("webhooks", hook_id)
            if hook is None or hook["created_at"] > stamp:
                continue
            event_id = hashlib.sha256(f"{tenant_key}/{hook_id}/{topic}/{job_id}/{at!r}"
                                      .encode()).hexdigest()[:32]
            delivery = Delivery(event_id, tenant_key[0], tenant_key, hook_id, topic, kind,
                                job_id, at, hook["callback_url"], b"", hook["shared_secret"])
            self.log.add(delivery)
            shape = (hook.get("_base"), str(hook.get("_meta")),
                     tuple(hook.get("include_resources") or ()))
            if shape not in bodies:
                if job is None:  # destroyed: only the id (a secondary source)
                    bodies[shape] = dumps_kept({"data": {"id": job_id, "type": kind}})
                else:
                    assert tenant is not None
                    bodies[shape] = dumps_kept(self.render(tenant, job, at, hook))  # kept by the log
            delivery.body = bodies[shape]
            self.sender.deliver(delivery, hook)

    def _schedule(self, d: Delivery) -> None:
        """Put a delivery back on the clock (a retry, a delay) at `d.next_at`."""
        assert d.next_at is not None
        heapq.heappush(self._heaps.setdefault(d.namespace, []), (d.next_at, next(self._seq), d))
        self._poke()

    def _reindex(self, tenant_key: TenantKey) -> None:
        """A webhook's circuit opened: its events are no longer looked at."""
        tenant = self.store.peek(tenant_key)
        records = org_records(tenant) if tenant is not None else None
        if records is not None:
            self._index(tenant_key, records.list("webhooks"))

    # --- for tests and the admin API -------------------------------------------------------

    async def settle(self, patience: float | None = None) -> None:
        """Wait (at most `patience` real seconds; default the receivers' time limit and one
        more) until every delivery due by now was attempted; the clock is not moved, so retries
        and later transitions stay ahead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.policy.timeout + 1.0 if patience is None else patience)
        while loop.time() < deadline:
            self.step()
            if not self._busy and not self.sender.busy and not self.sender.senders \
                    and not self._changes:
                return
            await asyncio.sleep(0.005)
