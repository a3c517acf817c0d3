"""Sending: each webhook delivery POSTed, signed, retried on the clock, cut off by the circuit.

Each callback URL has its own queue (a receiver sees its events in the order they happened,
whichever webhooks they came through) and sender task; at most CONCURRENCY requests are in
flight, each limited to the policy's `timeout` (policy.py: the config's `webhooks:` numbers). A
failed attempt is retried on the virtual clock after `policy.backoff(n)`, up to `policy.retries`
times; `policy.circuit_after` consecutive failures open the webhook's circuit, and nothing is sent
to it until `_reset_circuit`. The delivery controls (faults.py) are the webhook's own
`metadata.mock_delivery`, else the job scenario's `webhooks`, else the first matching rule
(rules.py). Every attempt is an event callback (the newest KEEP_CALLBACKS per webhook) and a
journal entry. A delivery waiting on the clock (a retry, a delay, a full queue) is kept with
the tenant's records (the outbox), so a restart resumes it. The engine (engine.py) decides what
is due and when; this module only sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from ..records.simulation.org import org_records
from ..timefmt import cl_time
from .deliveries import DELIVERED, DROPPED, FAILED, RETRYING, SKIPPED, Delivery, DeliveryLog
from .faults import DeliveryFaultError, DeliveryFaults
from .policy import Policy
from .rules import DeliveryRules

if TYPE_CHECKING:
    from ..domain.clock import VirtualClock
    from ..domain.store import Store, Tenant, TenantKey
    from ..qa.journal import Journal

CONCURRENCY = 16  # requests in flight at once, over every webhook
KEEP_CALLBACKS = 50  # event callbacks kept per webhook (the vendor keeps the last ones)
OUTBOX = "webhook_outbox"  # record type of the deliveries waiting on the clock
T = TypeVar("T")
log = logging.getLogger("mock_server.webhooks")


class Sender:
    """Sends deliveries; `schedule(d)` puts one back on the clock at `d.next_at`,
    `circuit_opened(tenant)` tells the engine a webhook stopped taking events."""

    def __init__(self, store: Store, clock: VirtualClock, seed: int, log: DeliveryLog,
                 schedule: Callable[[Delivery], None],
                 circuit_opened: Callable[[TenantKey], None], keeper: Any = None,
                 journal: Journal | None = None, policy: Policy | None = None,
                 rules: DeliveryRules | None = None) -> None:
        self.store, self.clock, self.seed, self.log = store, clock, seed, log
        self.policy, self.rules = policy or Policy(), rules or DeliveryRules()
        self.shared: Any = None  # replicas (replicas.py): records change in tenant transactions
        self.schedule, self.circuit_opened = schedule, circuit_opened
        self.keeper, self.journal = keeper, journal
        self._queues: dict[str, deque[Delivery]] = {}  # callback URL → its deliveries, in order
        self.senders: dict[str, asyncio.Task[None]] = {}
        self._kept: dict[tuple[TenantKey, str], deque[str]] = {}  # event callback ids kept
        self._sem: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self.busy = 0  # sends under way

    def start(self) -> None:
        """On the serving loop, before the first send."""
        self._sem = asyncio.Semaphore(CONCURRENCY)

    async def close(self) -> None:
        """Stop sending (what is queued is dropped; the outbox keeps what waits)."""
        tasks = list(self.senders.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def deliver(self, delivery: Delivery, hook: dict[str, Any]) -> None:
        """Send now, or as the delivery controls say (`controls`)."""
        faults = self.controls(delivery, hook)
        if faults is None:
            self.enqueue(delivery)
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
            self.schedule(delivery)
            self._keep_waiting(delivery)
            return
        self.first(delivery)

    def controls(self, d: Delivery, hook: dict[str, Any]) -> DeliveryFaults | None:
        """The webhook's own `metadata.mock_delivery`, else the job's scenario's `webhooks`,
        else the first rule that matches."""
        try:
            own = DeliveryFaults.of(hook) or self._job_controls(d)
        except DeliveryFaultError:  # checked on write; a state from elsewhere may differ
            own = None
        return own if own is not None else self.rules.match(d.namespace, d.topic, d.url)

    def _job_controls(self, d: Delivery) -> DeliveryFaults | None:
        tenant = self.store.peek(d.tenant)
        job = tenant.get(d.job_type, d.job_id) if tenant is not None else None
        given = getattr(job.scenario, "webhooks", None) if job is not None else None
        return DeliveryFaults.parse(json.loads(given)) if given else None

    def first(self, delivery: Delivery) -> None:
        for _ in range(delivery.copies):
            if not self.enqueue(delivery):  # it waits on the clock: once
                return

    # --- sending ---------------------------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> bool:
        """Queue an attempt for the delivery's receiver; when `policy.queue` already wait
        for it (a receiver far behind), the delivery waits on the clock instead (`first_retry`
        virtual seconds, kept in the outbox) and is queued again then."""
        key = delivery.url
        queue = self._queues.setdefault(key, deque())
        if len(queue) >= self.policy.queue:
            delivery.next_at = self.clock.now(delivery.namespace) + self.policy.first_retry
            self.schedule(delivery)
            self._keep_waiting(delivery)
            return False
        queue.append(delivery)
        if key not in self.senders:
            self.senders[key] = asyncio.create_task(self._send_all(key))
        return True

    async def _send_all(self, key: str) -> None:
        """Send one callback URL's queue in order, then end."""
        queue = self._queues[key]
        self.busy += 1
        try:
            while queue:
                await self._send(queue.popleft())
        finally:
            self.busy -= 1
            del self.senders[key]
            if not queue:
                self._queues.pop(key, None)

    async def _send(self, d: Delivery) -> None:
        assert self._sem is not None
        if self._session is None:  # made on first use: a server that never sends has none
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout))
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
                code, message = None, f"no answer within {self.policy.timeout:g} s"
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                code, message = None, f"{type(exc).__name__}: {exc}"[:300]
        if self.journal is not None:  # beside the requests it answered, as the console shows
            self.journal.add(d.namespace, "POST", d.url, at=self.clock.now(d.namespace),
                             operation=f"webhook {d.topic}", request_headers=tuple(headers.items()),
                             request_body=d.body, status=code, response_headers=reply_headers,
                             duration_ms=round((time.perf_counter() - started) * 1000, 1))
        try:
            await self._record(d, code, message)
        except Exception as exc:  # noqa: BLE001 - the state refused: the next ones still go
            log.error("webhooks: the attempt of %s was not recorded: %s", d.event_id, exc)

    def _hook(self, d: Delivery) -> dict[str, Any] | None:
        tenant = self.store.peek(d.tenant)
        records = org_records(tenant) if tenant is not None else None
        return records.get("webhooks", d.webhook_id) if records is not None else None

    # --- what an attempt changes: the tenant's records (callbacks, circuit, outbox) ----------

    async def _apply(self, key: TenantKey, fn: Callable[[Tenant, Any], T]) -> T | None:
        """Apply `fn(tenant, records)` to a tenant's records and keep it: with replicas in the
        tenant's transaction (shared before this returns), else at once (a state file writes
        it on its next commit). None when the tenant is gone."""
        if self.shared is not None:
            return await self.shared.change(key, lambda tenant: self._change(tenant, fn))
        return self._change(self.store.peek(key), fn)

    def _apply_soon(self, key: TenantKey, fn: Callable[[Tenant, Any], Any]) -> None:
        """`_apply` from synchronous code: with replicas, in the tenant's next transaction."""
        if self.shared is None:
            self._change(self.store.peek(key), fn)
            return
        task = asyncio.ensure_future(self._apply(key, fn))
        task.add_done_callback(_report)

    def _change(self, tenant: Tenant | None, fn: Callable[[Tenant, Any], T]) -> T | None:
        records = org_records(tenant) if tenant is not None else None
        if tenant is None or records is None:
            return None
        with tenant.lock:
            out = fn(tenant, records)
            tenant.records_changed()
        if self.keeper is not None:
            self.keeper.commits.poke()
        return out

    async def _record(self, d: Delivery, code: int | None, message: str) -> None:
        """The attempt as an event callback; the circuit; the retry, if one is due, in the
        outbox: one change of the tenant's records."""
        now = self.clock.now(d.namespace)
        ok = code is not None and 200 <= code < 300 and not d.forced_failure
        if d.forced_failure:
            message += " (counted as failed: a delivery control's fail)"
        d.attempts.append({"at": cl_time(now), "response_code": code, "message": message})

        def note(tenant: Tenant, records: Any) -> bool | None:
            opened = self._note(d, records, code, message, ok, cl_time(now))
            if opened is None:  # the webhook is gone
                return None
            if ok:
                d.status, d.next_at = DELIVERED, None
            elif len(d.attempts) <= self.policy.retries and not opened:
                d.status, d.next_at = RETRYING, now + self.policy.backoff(len(d.attempts))
                d.outbox_id = d.event_id
                records.save(OUTBOX, self._outbox(d))
                return opened
            else:
                d.status, d.next_at = FAILED, None
            if d.outbox_id is not None:
                records.delete(OUTBOX, d.outbox_id)
                d.outbox_id = None
            return opened

        opened = await self._apply(d.tenant, note)
        if opened is None:  # the tenant or the webhook is gone
            return
        if opened:
            self._give_up(d)
            self.circuit_opened(d.tenant)  # its events are not even looked at, until a reset
        if d.status == RETRYING:
            self.schedule(d)

    def _note(self, d: Delivery, records: Any, code: int | None, message: str, ok: bool,
              stamp: str) -> bool | None:
        """In the records: the event callback (the newest KEEP_CALLBACKS kept) and the
        webhook's failure count. Whether its circuit opened now (None: the webhook is gone)."""
        hook = records.get("webhooks", d.webhook_id)
        if hook is None:
            return None
        callback = {"id": records.new_id("event_callbacks"), "callback_url": d.url,
                    "payload": _json(d.body), "response_code": None if code is None else str(code),
                    "response_message": message, "reference": None, "reference_origin": None,
                    "metadata": {}, "webhook_id": d.webhook_id, "created_at": stamp,
                    "updated_at": stamp}
        records.save("event_callbacks", callback)
        mine = self._kept.get((d.tenant, d.webhook_id))
        if mine is None or self.shared is not None:  # first since start, or replicas: as kept
            mine = self._kept[(d.tenant, d.webhook_id)] = deque(
                c["id"] for c in records.list("event_callbacks")
                if c["webhook_id"] == d.webhook_id)
        else:
            mine.append(callback["id"])
        while len(mine) > KEEP_CALLBACKS:
            records.delete("event_callbacks", mine.popleft())
        failures = 0 if ok else int(hook.get("circuit_failure_count") or 0) + 1
        changed = {**hook, "circuit_failure_count": failures, "updated_at": stamp}
        opened = failures >= self.policy.circuit_after and hook.get("circuit_state") != "open"
        if opened:
            changed["circuit_state"] = "open"
        records.save("webhooks", changed)
        return opened

    def _give_up(self, d: Delivery) -> None:
        """The webhook's circuit opened: its deliveries waiting for a retry are given up."""
        for other in self.log.select(namespace=d.namespace, webhook=d.webhook_id,
                                     status=RETRYING):
            if other.tenant == d.tenant and other is not d:
                other.status, other.next_at = FAILED, None
                self._done_waiting(other)

    # --- the outbox: deliveries waiting on the clock, kept with the tenant's records ---------

    def _keep_waiting(self, d: Delivery) -> None:
        """Keep a delivery that waits for its instant (a retry, a delay): a state file or
        database keeps it with the records, and a restart resumes it (`resume`)."""
        d.outbox_id = d.event_id  # one per event and webhook
        kept = self._outbox(d)
        self._apply_soon(d.tenant, lambda tenant, records: records.save(OUTBOX, kept))

    @staticmethod
    def _outbox(d: Delivery) -> dict[str, Any]:
        """A waiting delivery as its outbox record."""
        return {"id": d.event_id, "event_id": d.event_id, "webhook_id": d.webhook_id,
                "topic": d.topic, "job_type": d.job_type, "job_id": d.job_id, "at": d.at,
                "next_at": d.next_at, "status": d.status, "attempts": list(d.attempts),
                "body": d.body.decode(), "copies": d.copies, "forced_failure": d.forced_failure}

    def _done_waiting(self, d: Delivery) -> None:
        """The delivery no longer waits: forget its outbox record."""
        kept, d.outbox_id = d.outbox_id, None
        if kept is not None:
            self._apply_soon(d.tenant, lambda tenant, records: records.delete(OUTBOX, kept))

    def resume(self, tenant: Tenant) -> None:
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
            faults = self.controls(d, hook)
            if faults is not None and faults.bad_signature:
                d.secret = "not-" + d.secret
            self.log.add(d)
            self.schedule(d)


def _json(body: bytes) -> Any:
    return json.loads(body)


def _report(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("webhooks: a delivery's records were not kept: %s", task.exception())
