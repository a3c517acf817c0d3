"""Peers: the other live replicas, and which of them acknowledged a change.

A writer announces a commit with a token; every replica that was live when it committed answers
`ack` once it has heard of the change. A replica says `hello` when it starts and `bye` when it
stops; one that died is found gone from `pg_stat_activity` when it fails to answer in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from .postgres import PostgresState

log = logging.getLogger("mock_server.state")
ACK_WAIT = 2.0  # seconds a writer waits for another replica to acknowledge a change


@dataclass(slots=True)
class Ack:
    """What one announced change still waits for."""

    token: str
    waiting: set[str]
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def heard(self, replica: str) -> None:
        """`replica` acknowledged (or is gone)."""
        self.waiting.discard(replica)
        if not self.waiting:
            self.done.set()


class Peers:
    """The other live replicas of one database, as this replica `me` knows them."""

    def __init__(self, backend: PostgresState, me: str) -> None:
        self.backend, self.me = backend, me
        self.live: set[str] = set()
        self._acks: dict[str, Ack] = {}
        self._tokens = 0

    async def look(self) -> None:
        """Find the replicas listening now."""
        self.live = await self.backend.run(self.backend.peers(self.me))

    def expect(self) -> Ack:
        """A token for a change every replica live now must acknowledge."""
        self._tokens += 1
        ack = Ack(f"{self.me}.{self._tokens}", set(self.live))
        self._acks[ack.token] = ack
        return ack

    def forget(self, ack: Ack) -> None:
        """Nothing waits for `ack` any more."""
        self._acks.pop(ack.token, None)

    async def wait(self, ack: Ack) -> None:
        """Until every live replica acknowledged `ack` (one gone is dropped after ACK_WAIT)."""
        try:
            if ack.waiting:
                await asyncio.wait_for(ack.done.wait(), ACK_WAIT)
        except TimeoutError:
            live = await self.backend.run(self.backend.peers(self.me))
            gone = ack.waiting - live
            log.warning("mock-server: replica(s) %s did not acknowledge a change in %s s%s",
                        ", ".join(sorted(ack.waiting)), ACK_WAIT,
                        "; they are gone" if gone == ack.waiting else "")
            self.live &= live
        finally:
            self.forget(ack)

    def heard(self, notice: dict[str, Any]) -> bool:
        """Take an acknowledgement, hello or bye (True), or note the sender as live (False)."""
        sender = notice["r"]
        if "ack" in notice:
            found = self._acks.get(notice["ack"])
            if found is not None:
                found.heard(sender)
            return True
        if "bye" in notice:
            self.live.discard(sender)
            for ack in self._acks.values():
                ack.heard(sender)
            return True
        self.live.add(sender)
        return "hello" in notice

    def acknowledge(self, token: str) -> None:
        """Tell the writer of change `token` this replica has it."""
        asyncio.ensure_future(self.backend.run(self.backend.notify(
            {"r": self.me, "ack": token}))).add_done_callback(report)


def report(task: asyncio.Future[Any]) -> None:
    """Log what a background task for another replica failed with."""
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None:
            log.error("mock-server: could not follow another replica: %s", exc)
