"""Engine: each webhook event at the virtual instant of its transition, sent in time order.

Job state is computed lazily from a plan and the clock, so nothing "happens" when a job
completes. The engine keeps, per namespace, a heap of the next instant at which a watched job
passes a transition (re-planned when the job changes or a clock moves); when the clock reaches
it, every transition up to now is turned into events, all events of the step are sorted by
instant, and each goes to the webhooks subscribed to its topic. A frozen clock delivers nothing
until it moves; an hour's advance delivers each transition once, in order.

Sending never touches the request path: each callback URL has its own queue (so a receiver
sees its events in the order they happened, whichever webhooks they came through) and sender
task, at most CONCURRENCY requests are in flight, each limited to TIMEOUT seconds. A failed
attempt is retried on the virtual clock after `backoff(n)`, up to MAX_RETRIES times;
CIRCUIT_AFTER consecutive failures open the webhook's circuit, and nothing is sent to it until
`_reset_circuit`. Every attempt is kept as an event callback (the newest KEEP_CALLBACKS per
webhook). Only Commerce Layer tenants have webhooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from ..domain.changes import Change, JobChanged
from ..domain.lifecycle import transitions
from ..jsonenc import dumps
from ..records.simulation.org import org_records
from ..timefmt import cl_time
from .deliveries import (
    DELIVERED,
    DROPPED,
    FAILED,
    PENDING,
    RETRYING,
    SKIPPED,
    Delivery,
    DeliveryLog,
)
from .faults import DeliveryFaultError, DeliveryFaults
from .topics import Topics

if TYPE_CHECKING:
    from aiohttp import web

    from ..domain.clock import VirtualClock
    from ..domain.model import ResourceType
    from ..domain.store import Job, Store, Tenant, TenantKey
    from ..qa.journal import Journal

    Render = Callable[[Tenant, Job, float, dict[str, Any]], Any]

MAX_RETRIES = 10  # notes: webhooks_state_browser.md §1 "up to 10 retries"
CIRCUIT_AFTER = 30  # ... "after 30 consecutive failures (retries included) deliveries stop"
TIMEOUT = 5.0  # ... "the endpoint must answer 2xx within 5 s"
CONCURRENCY = 16  # requests in flight at once, over every webhook
KEEP_CALLBACKS = 50  # event callbacks kept per webhook (the vendor keeps the last ones)
FIRST_RETRY, LAST_RETRY = 30.0, 3600.0  # inferred: the vendor documents no schedule

JobKey = tuple["TenantKey", str, str]  # (tenant, job type, id)
log = logging.getLogger("mock_server.webhooks")
OUTBOX = "webhook_outbox"  # record type of the deliveries waiting on the clock


def backoff(attempt: int) -> float:
    """Virtual seconds before retry `attempt` (1-based): 30 s, 1 min, 2 min … at most 1 h."""
    return min(FIRST_RETRY * 2 ** (attempt - 1), LAST_RETRY)


class Engine:
    """Finds due transitions, and sends them to the subscribed webhooks."""

    def __init__(self, store: Store, clock: VirtualClock, types: Mapping[str, ResourceType],
                 topics: Topics, seed: int, render: Render, keeper: Any = None,
                 journal: Journal | None = None) -> None:
        """`render(tenant, job, instant, webhook)`: the payload; `keeper`: a state file's (its
        commits are poked when a delivery changed records), None in memory; `journal`: where
        each attempt is noted (operation `webhook <topic>`)."""
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
        self._kept: dict[tuple[TenantKey, str], deque[str]] = {}  # event callback ids kept
        self._heaps: dict[str, list[tuple[float, int, Any]]] = {}
        self._seq = itertools.count()
        self._queues: dict[str, deque[Delivery]] = {}  # callback URL → its deliveries, in order
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._wake: asyncio.Event | None = None
        self._sem: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._busy = 0  # steps and sends under way (settle waits for 0)
        self._steps = 0
        self.until: dict[str, float] = {}  # namespace → events found up to this instant
        self._since: dict[str, float] = {}  # the same, as a state file kept it
        self.inboxes: dict[str, list[dict[str, Any]]] = {}  # the built-in receiver's

    # --- wiring --------------------------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        """on_startup: the loop task, the HTTP client, and the webhooks already stored."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake, self._sem = asyncio.Event(), asyncio.Semaphore(CONCURRENCY)
        for tenant in self.store.tenants():
            records = org_records(tenant)
            if records is not None and records.list("webhooks"):
                self.watch(tenant, since=self._since.get(tenant.key[0]))
                self._resume(tenant)
        self.store.feed.subscribe(self.on_change)
        self._task = asyncio.create_task(self._run(), name="webhook engine")

    async def close(self, app: web.Application) -> None:
        """on_cleanup: stop finding and sending (pending deliveries are dropped)."""
        tasks = [t for t in (self._task, *self._senders.values()) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

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
                        self._enqueue(item)
                    elif item.status == PENDING:  # a delayed first attempt
                        self._first(item)
                else:
                    self._planned.pop(item, None)
                    events.extend(self._due(item, now))
        events.sort()
        for at, _, tenant_key, kind, job_id, topic in events:
            self._fan_out(at, tenant_key, kind, job_id, topic)
        for namespace in {key[0] for key, _ in self._subscribed}:
            self.until[namespace] = clock.now(namespace)  # every transition before is sent

    def kept(self) -> dict[str, float]:
        """What a state file keeps: per namespace, the instant events were found up to."""
        return dict(self.until)

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
                    bodies[shape] = dumps({"data": {"id": job_id, "type": kind}})
                else:
                    assert tenant is not None
                    bodies[shape] = dumps(self.render(tenant, job, at, hook))
            delivery.body = bodies[shape]
            self._deliver(delivery, hook)

    def _deliver(self, delivery: Delivery, hook: dict[str, Any]) -> None:
        """Send now, or as the webhook's delivery controls (metadata.mock_delivery) say."""
        try:
            faults = DeliveryFaults.of(hook)
        except DeliveryFaultError:  # checked on write; a state from elsewhere may differ
            faults = None
        if faults is None:
            self._enqueue(delivery)
            return
        dropped, delay, copies = faults.draw(self.seed, delivery.event_id)
        if dropped:
            delivery.status = DROPPED
            return
        if faults.bad_signature:
            delivery.secret = "not-" + delivery.secret
        delivery.forced_failure, delivery.copies = faults.fail, copies
        if delay > 0:
            delivery.next_at = delivery.at + delay
            heapq.heappush(self._heaps.setdefault(delivery.namespace, []),
                           (delivery.next_at, next(self._seq), delivery))
            self._keep_waiting(delivery)
            self._poke()
            return
        self._first(delivery)

    def _first(self, delivery: Delivery) -> None:
        for _ in range(delivery.copies):
            self._enqueue(delivery)

    # --- sending ---------------------------------------------------------------------------

    def _enqueue(self, delivery: Delivery) -> None:
        key = delivery.url
        self._queues.setdefault(key, deque()).append(delivery)
        if key not in self._senders:
            self._senders[key] = asyncio.create_task(self._send_all(key))

    async def _send_all(self, key: str) -> None:
        """Send one callback URL's queue in order, then end."""
        queue = self._queues[key]
        self._busy += 1
        try:
            while queue:
                await self._send(queue.popleft())
        finally:
            self._busy -= 1
            del self._senders[key]
            if not queue:
                self._queues.pop(key, None)

    async def _send(self, d: Delivery) -> None:
        assert self._sem is not None
        if self._session is None:  # made on first use: a server that never sends has none
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        hook = self._hook(d)
        if hook is None or hook.get("circuit_state") == "open" or hook.get("disabled_at"):
            d.status = SKIPPED
            self._done_waiting(d)
            return
        headers = d.headers()
        reply_headers: tuple[tuple[str, str], ...] = ()
        started = time.perf_counter()
        async with self._sem:
            try:
                async with self._session.post(d.url, data=d.body, headers=headers,
                                              allow_redirects=False) as resp:
                    code, message = resp.status, resp.reason or ""
                    reply_headers = tuple(resp.headers.items())
            except TimeoutError:
                code, message = None, f"no answer within {TIMEOUT:g} s"
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                code, message = None, f"{type(exc).__name__}: {exc}"[:300]
        if self.journal is not None:  # beside the requests it answered, as the console shows
            self.journal.add(d.namespace, "POST", d.url, at=self.clock.now(d.namespace),
                             operation=f"webhook {d.topic}", request_headers=tuple(headers.items()),
                             request_body=d.body, status=code, response_headers=reply_headers,
                             duration_ms=round((time.perf_counter() - started) * 1000, 1))
        self._record(d, code, message)

    def _hook(self, d: Delivery) -> dict[str, Any] | None:
        tenant = self.store.peek(d.tenant)
        records = org_records(tenant) if tenant is not None else None
        return records.get("webhooks", d.webhook_id) if records is not None else None

    def _record(self, d: Delivery, code: int | None, message: str) -> None:
        """The attempt as an event callback; the circuit; the retry, if one is due."""
        tenant = self.store.peek(d.tenant)
        records = org_records(tenant) if tenant is not None else None
        hook = self._hook(d)
        if tenant is None or records is None or hook is None:
            return
        now = self.clock.now(d.namespace)
        ok = code is not None and 200 <= code < 300 and not d.forced_failure
        if d.forced_failure:
            message += " (counted as failed: metadata.mock_delivery.fail)"
        d.attempts.append({"at": cl_time(now), "response_code": code, "message": message})
        with tenant.lock:
            stamp = cl_time(now)
            callback = {"id": records.new_id("event_callbacks"), "callback_url": d.url,
                        "payload": _json(d.body), "response_code": None if code is None else str(code),
                        "response_message": message, "reference": None, "reference_origin": None,
                        "metadata": {}, "webhook_id": d.webhook_id, "created_at": stamp,
                        "updated_at": stamp}
            records.save("event_callbacks", callback)
            mine = self._kept.get((d.tenant, d.webhook_id))
            if mine is None:  # first attempt since start: what the records hold
                mine = self._kept[(d.tenant, d.webhook_id)] = deque(
                    c["id"] for c in records.list("event_callbacks")
                    if c["webhook_id"] == d.webhook_id)
            else:
                mine.append(callback["id"])
            while len(mine) > KEEP_CALLBACKS:
                records.delete("event_callbacks", mine.popleft())
            failures = 0 if ok else int(hook.get("circuit_failure_count") or 0) + 1
            changed = {**hook, "circuit_failure_count": failures, "updated_at": stamp}
            opened = failures >= CIRCUIT_AFTER and hook.get("circuit_state") != "open"
            if opened:
                changed["circuit_state"] = "open"
                self._give_up(d)
            records.save("webhooks", changed)
            tenant.records_changed()
            if opened:  # from now on its events are not even looked at, until a reset
                self._index(d.tenant, records.list("webhooks"))
        if ok:
            d.status, d.next_at = DELIVERED, None
            self._done_waiting(d)
        elif len(d.attempts) <= MAX_RETRIES and changed.get("circuit_state") != "open":
            d.status, d.next_at = RETRYING, now + backoff(len(d.attempts))
            heapq.heappush(self._heaps.setdefault(d.namespace, []),
                           (d.next_at, next(self._seq), d))
            self._keep_waiting(d)
            self._poke()
        else:
            d.status, d.next_at = FAILED, None
            self._done_waiting(d)
        if self.keeper is not None:
            self.keeper.commits.poke()  # a state file keeps the callbacks and the circuit

    def _give_up(self, d: Delivery) -> None:
        """The webhook's circuit opened: its deliveries waiting for a retry are given up."""
        for other in self.log.select(namespace=d.namespace, webhook=d.webhook_id,
                                     status=RETRYING):
            if other.tenant == d.tenant:
                other.status, other.next_at = FAILED, None
                self._done_waiting(other)

    # --- the outbox: deliveries waiting on the clock, kept with the tenant's records ---------

    def _keep_waiting(self, d: Delivery) -> None:
        """Keep a delivery that waits for its instant (a retry, a delay): a state file or
        database keeps it with the records, and a restart resumes it (`_resume`)."""
        tenant = self.store.peek(d.tenant)
        records = org_records(tenant) if tenant is not None else None
        if tenant is None or records is None:
            return
        with tenant.lock:
            if d.outbox_id is None:
                d.outbox_id = records.new_id(OUTBOX)
            records.save(OUTBOX, {
                "id": d.outbox_id, "event_id": d.event_id, "webhook_id": d.webhook_id,
                "topic": d.topic, "job_type": d.job_type, "job_id": d.job_id, "at": d.at,
                "next_at": d.next_at, "status": d.status, "attempts": list(d.attempts),
                "body": d.body.decode(), "copies": d.copies,
                "forced_failure": d.forced_failure})
            tenant.records_changed()
        if self.keeper is not None:
            self.keeper.commits.poke()

    def _done_waiting(self, d: Delivery) -> None:
        """The delivery no longer waits: forget its outbox record."""
        if d.outbox_id is None:
            return
        tenant = self.store.peek(d.tenant)
        records = org_records(tenant) if tenant is not None else None
        if tenant is not None and records is not None:
            with tenant.lock:
                records.delete(OUTBOX, d.outbox_id)
                tenant.records_changed()
        d.outbox_id = None

    def _resume(self, tenant: Tenant) -> None:
        """At start-up: the deliveries the tenant's records say were waiting, back on the clock."""
        records = org_records(tenant)
        for kept in list(records.list(OUTBOX)) if records is not None else ():
            hook = records.get("webhooks", kept["webhook_id"]) if records is not None else None
            if hook is None:
                continue
            d = Delivery(kept["event_id"], tenant.key[0], tenant.key, kept["webhook_id"],
                         kept["topic"], kept["job_type"], kept["job_id"], float(kept["at"]),
                         hook["callback_url"], str(kept["body"]).encode(), hook["shared_secret"],
                         status=kept["status"], attempts=list(kept["attempts"] or ()),
                         next_at=float(kept["next_at"]), forced_failure=bool(kept["forced_failure"]),
                         copies=int(kept["copies"] or 1), outbox_id=kept["id"])
            try:
                faults = DeliveryFaults.of(hook)
            except DeliveryFaultError:
                faults = None
            if faults is not None and faults.bad_signature:
                d.secret = "not-" + d.secret
            self.log.add(d)
            heapq.heappush(self._heaps.setdefault(tenant.key[0], []),
                           (float(kept["next_at"]), next(self._seq), d))

    # --- for tests and the admin API -------------------------------------------------------

    async def settle(self, patience: float = TIMEOUT + 1.0) -> None:
        """Wait (at most `patience` real seconds) until every delivery due by now was
        attempted; the clock is not moved, so retries and later transitions stay ahead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while loop.time() < deadline:
            self.step()
            if not self._busy and not self._senders and not self._changes:
                return
            await asyncio.sleep(0.005)


def _json(body: bytes) -> Any:
    return json.loads(body)


__all__ = ["Engine", "backoff", "PENDING"]
