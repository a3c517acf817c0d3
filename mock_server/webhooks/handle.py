"""`mock_server.webhooks` in a test: the built-in receiver and the deliveries of one namespace.

    hook = {"topic": "imports.complete", "callback_url": mock_server.webhooks.receiver_url}
    ...create the webhook and an import, advance the clock...
    (event,) = mock_server.webhooks.received(topic="imports.complete")
    assert event.signature_valid and event.body["data"]["attributes"]["status"] == "completed"

Both calls first let every delivery due by now be attempted (the clock does not move).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from ..keys import WEBHOOKS

if TYPE_CHECKING:
    from aiohttp import web


class Served(Protocol):
    """What a handle needs of a running server (serving.MockServer)."""

    app: web.Application

    @property
    def url(self) -> str: ...

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any: ...


@dataclass(frozen=True, slots=True)
class Received:
    """One delivery as the built-in receiver got it."""

    topic: str | None
    body: Any  # the JSON:API document
    signature_valid: bool  # base64(HMAC-SHA256(shared secret, body)) matched
    event_id: str | None  # the same on every retry of one event


class NamespaceWebhooks:
    """Webhook deliveries of one namespace of a running server."""

    def __init__(self, server: Served, namespace: str) -> None:
        self._server, self.namespace = server, namespace
        self._app = server.app

    @property
    def receiver_url(self) -> str:
        """A callback_url whose deliveries `received()` returns."""
        return f"{self._server.url}/_mock/webhooks/inbox/{quote(self.namespace, safe='')}"

    def settle(self) -> None:
        """Wait until every delivery due by now was attempted."""
        self._server.run(self._app[WEBHOOKS].settle())

    def received(self, topic: str | None = None) -> list[Received]:
        """What arrived at `receiver_url`, oldest first (only `topic`'s, if given)."""
        self.settle()
        got = self._app[WEBHOOKS].inboxes.get(self.namespace, [])
        return [Received(g["topic"], g["body"], g["signature_valid"], g["event_id"])
                for g in got if topic is None or g["topic"] == topic]

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """The namespace's deliveries as GET /_mock/webhooks/deliveries lists them (filters
        topic, job, webhook, status, limit)."""
        self.settle()
        found = self._app[WEBHOOKS].log.select(namespace=self.namespace, **filters)
        return [d.view() for d in found]

    def rule(self, **rule: Any) -> dict[str, Any]:
        """Add a delivery rule private to this namespace (as POST /_mock/webhooks/rules takes
        it: `topic`/`callback_url` globs and the controls, e.g. `rule(topic="imports.*",
        drop=1)`); it ends with the namespace's reset."""
        added = self._app[WEBHOOKS].rules.add(rule, namespace=self.namespace)
        return added.as_dict()

    def clear(self) -> None:
        """Forget what the receiver got."""
        self._app[WEBHOOKS].inboxes.pop(self.namespace, None)
