"""Change events: what changed in the store, for whoever keeps something derived from it
(render caches, replicas, webhooks, the dashboard). No aiohttp, no clock reads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class JobChanged:
    """Job `job_id` of `tenant` is now at `version` (created at 1; `deleted`: it is gone). Never
    changed once made (not frozen: one is made per processed item, and a frozen dataclass takes
    ~5× longer to make)."""

    namespace: str
    tenant: tuple[str, ...]
    kind: str
    job_id: str
    version: int
    at: float  # the virtual instant of the change
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ClockMoved:
    """A clock was set, advanced, frozen, resumed or sped up: the server's (`namespace` None)
    or a namespace's own. Lazily computed statuses may have moved with it."""

    namespace: str | None
    now: float


Change = JobChanged | ClockMoved
Subscriber = Callable[[Change], None]


class ChangeFeed:
    """Subscribers called with every change, in order, on the thread that made it."""

    __slots__ = ("_subscribers", "_lock")

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call `fn` on every change from now on; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers = (*self._subscribers, fn)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not fn)

        return unsubscribe

    def publish(self, change: Change) -> None:
        """Tell every subscriber (nothing to do, and nearly free, when there is none)."""
        for fn in self._subscribers:
            fn(change)
