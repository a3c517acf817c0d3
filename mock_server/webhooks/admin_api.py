"""`/_mock/webhooks/...`: the deliveries the mock made, delivery rules, and a built-in receiver.

The receiver (`/_mock/webhooks/inbox/<name>`) keeps what arrives (topic, signature, event id,
body) and checks the signature against the shared secret of every webhook that sends there, so
a test asserts "imports.complete arrived, signed correctly" without a server of its own.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..domain.errors import BadRequest, NotFound, Unprocessable
from ..handlers import handles
from ..headers import NAMESPACE_HEADER
from ..jsonenc import dumps
from ..keys import STORE, WEBHOOKS
from ..qa.admin_api import namespace_scope
from ..records.simulation.org import org_records
from ..validation import Call
from .deliveries import signature
from .faults import DeliveryFaultError

INBOX_LIMIT = 1000  # kept per inbox, oldest dropped


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


@handles("adminListDeliveries")
async def list_deliveries(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/webhooks/deliveries?topic=&job=&webhook=&status=&limit=."""
    engine = request.app[WEBHOOKS]
    q = call.query
    if q.get("settle") is not False:  # absent (None) or true: wait
        await engine.settle()
    found = engine.log.select(namespace=namespace_scope(request, call), topic=q.get("topic"),
                              job=q.get("job"), webhook=q.get("webhook"),
                              status=q.get("status"), limit=q.get("limit"))
    return _json({"count": len(found), "sending": engine.sending,
                  "deliveries": [d.view() for d in found]})


def _secrets(request: web.Request) -> list[str]:
    """Shared secrets of the webhooks whose callback_url is this inbox."""
    out = []
    for tenant in request.app[STORE].tenants():
        records = org_records(tenant)
        for hook in records.list("webhooks") if records is not None else ():
            if hook["callback_url"].split("?")[0].endswith(request.path):
                out.append(hook["shared_secret"])
    return out


@handles("adminReceiveWebhook")
async def receive(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/webhooks/inbox/{inbox}: keep what arrived; 204."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise BadRequest("The body is not JSON.") from None
    sig = request.headers.get("X-CommerceLayer-Signature")
    valid = sig is not None and any(signature(s, raw) == sig for s in _secrets(request))
    inbox = request.app[WEBHOOKS].inboxes.setdefault(str(call.path["inbox"]), [])
    inbox.append({"topic": request.headers.get("X-CommerceLayer-Topic"), "signature": sig,
                  "signature_valid": valid, "event_id": request.headers.get("X-Mock-Event-Id"),
                  "body": body})
    del inbox[:-INBOX_LIMIT]
    return web.Response(status=204)


@handles("adminListReceived")
async def list_received(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/webhooks/inbox/{inbox}?topic=: what arrived, oldest first."""
    engine = request.app[WEBHOOKS]
    await engine.settle()
    got = engine.inboxes.get(str(call.path["inbox"]), [])
    topic = call.query.get("topic")
    got = [g for g in got if topic is None or g["topic"] == topic]
    return _json({"count": len(got), "received": got})


@handles("adminClearReceived")
async def clear_received(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/webhooks/inbox/{inbox}: forget what arrived."""
    gone = request.app[WEBHOOKS].inboxes.pop(str(call.path["inbox"]), [])
    return _json({"count": len(gone)})


@handles("adminListDeliveryRules")
async def list_rules(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/webhooks/rules: the rules of one namespace plus the global ones."""
    return _json({"rules": request.app[WEBHOOKS].rules.list(namespace_scope(request, call))})


@handles("adminAddDeliveryRule")
async def add_rule(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/webhooks/rules: 201 with the rule and its id."""
    body = dict(call.body)
    namespace = body.pop("namespace", None) or request.headers.get(NAMESPACE_HEADER)
    try:
        rule = request.app[WEBHOOKS].rules.add(body, namespace=namespace)
    except DeliveryFaultError as exc:
        raise Unprocessable(f"{exc.key + ' - ' if exc.key else ''}{exc}",
                            pointer=f"/{exc.key}" if exc.key else "",
                            meta={"error": "invalid"}) from None
    return _json(rule.as_dict(), status=201)


@handles("adminClearDeliveryRules")
async def clear_rules(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/webhooks/rules: one namespace's, or all (the configured ones come back)."""
    return _json({"removed": request.app[WEBHOOKS].rules.clear(namespace_scope(request, call))})


@handles("adminDeleteDeliveryRule")
async def delete_rule(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/webhooks/rules/{ruleId}."""
    rule_id = str(call.path["ruleId"])
    if not request.app[WEBHOOKS].rules.remove(rule_id):
        raise NotFound(f"No delivery rule {rule_id!r}.", parameter="ruleId")
    return _json({"removed": 1})
