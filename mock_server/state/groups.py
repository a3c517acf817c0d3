"""Group commit for a tenant's transactions: requests that change one tenant and arrive while
its transaction runs share the next one (one lock, one commit, one notice for all of them). A
group is taken once the transaction holds the tenant's lock, so requests that came while
another replica held it join the group instead of waiting for the next.

Each request's handler still runs on its own, one after the other, in the request's own context
(context variables such as the link base stay the request's), so the settle and lifecycle code is
unchanged; only the database work is shared. A handler that fails unexpectedly takes back the
whole transaction: that request gets its error and the others of the group run again.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from ..domain.errors import MockError
from ..domain.store import RESERVED, TenantKey

Handler = Callable[[web.Request, Any], Awaitable[web.StreamResponse]]
REFUSALS = (MockError, web.HTTPException)  # answers, not failures: what was applied stays


@dataclass(slots=True)
class Item:
    """One request waiting for its group."""

    request: web.Request | None  # None: a change the server makes itself (a webhook's)
    call: Any
    handler: Handler
    context: contextvars.Context
    done: asyncio.Future[tuple[web.StreamResponse, asyncio.Future[None] | None]]
    answer: web.StreamResponse | None = None
    refusal: BaseException | None = None

    @property
    def creates(self) -> bool:
        """Whether it may take a job id."""
        return self.request is not None and self.request.method == "POST"

    def settle(self, acked: asyncio.Future[None] | None) -> None:
        """Answer the request (its refusal, or its response once `acked`)."""
        if self.done.done():
            return
        if self.refusal is not None:
            self.done.set_exception(self.refusal)
        else:
            assert self.answer is not None
            self.done.set_result((self.answer, acked))

    def fail(self, exc: BaseException) -> None:
        """Answer the request with an error."""
        if not self.done.done():
            self.done.set_exception(exc)


class Failed(Exception):
    """A handler of the group failed unexpectedly (`item` gets `error`; the group is undone)."""

    def __init__(self, item: Item, error: BaseException) -> None:
        super().__init__(str(error))
        self.item, self.error = item, error


async def run_handlers(group: list[Item], reserved: list[int],
                       now: Callable[[str], float]) -> None:
    """Run each handler in its request's context, in arrival order, at the virtual time it runs
    (`now(namespace)`: what it creates is stamped in the order the tenant's lock serializes, on
    whichever replica) with job ids from `reserved`. Raises Failed for a handler that failed
    other than by refusing the request."""
    loop = asyncio.get_running_loop()
    for item in group:
        if item.call is not None:
            item.call = replace(item.call, now=now(item.call.namespace))
        item.context.run(RESERVED.set, reserved)
        task = loop.create_task(item.handler(item.request, item.call), context=item.context)
        try:
            item.answer, item.refusal = await task, None
        except REFUSALS as exc:
            item.answer, item.refusal = None, exc
        except Exception as exc:  # noqa: BLE001 - undone for all; this request gets the error
            raise Failed(item, exc) from exc


class TenantGroups:
    """The queue of each tenant's waiting requests, drained one group at a time by `run`
    (`run(key, take)` calls `take()` for its group once it holds the tenant's lock)."""

    def __init__(self, run: Callable[[TenantKey, Callable[[], list[Item]]], Awaitable[None]]
                 ) -> None:
        self._run = run
        self._queues: dict[TenantKey, list[Item]] = {}

    def busy(self, key: TenantKey) -> bool:
        """Whether a transaction of this replica on the tenant is running or waiting."""
        return key in self._queues

    async def submit(self, key: TenantKey, request: web.Request | None, call: Any,
                     handler: Handler) -> web.StreamResponse:
        """Serve a request in the tenant's next group; return once it is committed and
        acknowledged (the group's `run` settles each item)."""
        loop = asyncio.get_running_loop()
        item = Item(request, call, handler, contextvars.copy_context(), loop.create_future())
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = [item]
            loop.create_task(self._drain(key, queue), name="mock-state-group")
        else:
            queue.append(item)
        answer, acked = await item.done
        if acked is not None:
            await asyncio.shield(acked)  # every live replica has it
        return answer

    async def _drain(self, key: TenantKey, queue: list[Item]) -> None:
        try:
            while queue:
                taken: list[Item] = []

                def take(taken: list[Item] = taken) -> list[Item]:
                    """The group: every request waiting now (called once the lock is held)."""
                    taken.extend(queue)
                    del queue[:]
                    return taken

                try:
                    await self._run(key, take)
                except Failed as failed:
                    failed.item.fail(failed.error)
                    queue[:0] = [i for i in taken if i is not failed.item]  # again, afresh
                except BaseException as exc:  # the database refused, or the server stops
                    for item in taken or take():  # (refused before the group was taken)
                        item.fail(exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            del self._queues[key]
            for item in queue:  # only when stopping
                item.fail(asyncio.CancelledError())
