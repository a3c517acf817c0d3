"""One event sent to one webhook: its signed body, its attempts, its outcome; and the log of them.

The body is signed as Commerce Layer signs it (notes: webhooks_state_browser.md §1):
`X-CommerceLayer-Signature` = base64(HMAC-SHA256(shared_secret, raw body)), over the very bytes
sent. `X-Mock-Event-Id` is stable across retries, so a receiver can drop a duplicate.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..timefmt import cl_time

PENDING, DELIVERED, RETRYING, FAILED, SKIPPED, DROPPED = (
    "pending", "delivered", "retrying", "failed", "skipped", "dropped")


def signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)), as the vendor signs a callback."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(slots=True)
class Delivery:
    """One event for one webhook."""

    event_id: str
    namespace: str
    tenant: tuple[str, ...]
    webhook_id: str
    topic: str
    job_type: str
    job_id: str
    at: float  # the transition's virtual instant
    url: str
    body: bytes
    secret: str
    status: str = PENDING
    attempts: list[dict[str, Any]] = field(default_factory=list)  # {at, response_code, message}
    next_at: float | None = None  # virtual instant of the next attempt (a retry, a delay)
    forced_failure: bool = False  # metadata.mock_delivery.fail: every answer counts as failed
    copies: int = 1  # metadata.mock_delivery.duplicate: the first attempt sent twice
    outbox_id: str | None = None  # its record while it waits on the clock (a restart resumes it)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/vnd.api+json",
                "X-CommerceLayer-Topic": self.topic,
                "X-CommerceLayer-Signature": signature(self.secret, self.body),
                "X-Mock-Event-Id": self.event_id}

    def view(self) -> dict[str, Any]:
        """What the admin API shows."""
        return {"event_id": self.event_id, "namespace": self.namespace,
                "webhook_id": self.webhook_id, "topic": self.topic, "job_type": self.job_type,
                "job_id": self.job_id, "at": cl_time(self.at), "callback_url": self.url,
                "status": self.status, "attempts": list(self.attempts),
                "next_attempt_at": cl_time(self.next_at) if self.next_at is not None else None}


class DeliveryLog:
    """The newest `limit` deliveries, for `GET /_mock/webhooks/deliveries` and tests."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: deque[Delivery] = deque(maxlen=limit)

    def add(self, delivery: Delivery) -> None:
        self._items.append(delivery)

    def __iter__(self) -> Iterator[Delivery]:
        return iter(list(self._items))

    def select(self, *, namespace: str | None = None, topic: str | None = None,
               job: str | None = None, status: str | None = None, webhook: str | None = None,
               limit: int | None = None) -> list[Delivery]:
        """Deliveries in the order their events happened, filtered (topic is a glob)."""
        out = [d for d in self if (namespace is None or d.namespace == namespace)
               and (topic is None or fnmatch.fnmatchcase(d.topic, topic))
               and (job is None or d.job_id == job)
               and (status is None or d.status == status)
               and (webhook is None or d.webhook_id == webhook)]
        return out[-limit:] if limit else out

    def forget(self, namespace: str | None) -> None:
        """Drop one namespace's deliveries (None: all), as a reset does."""
        keep = [d for d in self._items if namespace is not None and d.namespace != namespace]
        self._items.clear()
        self._items.extend(keep)
