"""/api/webhooks and /api/event_callbacks: subscriptions to job topics and each delivery attempt.

Webhooks are kept with the organization's records (types `webhooks` and `event_callbacks` of
the record catalog), so a state file or database keeps them like the rest. The engine
(mock_server/webhooks/) is told whenever a tenant's webhooks change; it sends each event as the
job's JSON:API document at the instant of its transition (`payload`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from aiohttp import web

from ...domain.errors import BadRequest, NotFound, Unprocessable
from ...domain.jobs import view as job_view
from ...domain.store import Job, Tenant
from ...handlers import handles
from ...keys import HOOKS, SETTINGS, SPEC, TYPES, WEBHOOKS
from ...namespace_path import base_url
from ...records.simulation.files import LINK_BASE
from ...records.simulation.org import org_records
from ...timefmt import cl_time
from ...validation import Call
from ...webhooks.faults import KEY as CONTROLS_KEY
from ...webhooks.faults import DeliveryFaultError, DeliveryFaults
from .auth import stable_id
from .handlers import attributes, cl_tenant
from .jsonapi import resource, respond, sparse
from .lists import EVENT_NAMES, InMemory, list_response, single_response

HOOKS_TYPE, CALLBACKS_TYPE = "webhooks", "event_callbacks"


def _fields(app: web.Application, schema: str) -> tuple[str, ...]:
    """The read attributes of a resource schema, in the spec's order."""
    return _read_fields(app[SPEC], schema)


@lru_cache(maxsize=8)  # read once per spec, not per request (a Spec hashes by identity)
def _read_fields(spec: Any, schema: str) -> tuple[str, ...]:
    node = spec.resolve(spec.schema(schema)["properties"]["attributes"])
    return tuple(node["properties"])


def _records(tenant: Tenant) -> Any:
    records = org_records(tenant)
    if records is None:  # only Commerce Layer tenants are served here
        raise NotFound("No webhooks here.")
    return records


def _meta(call: Call) -> dict[str, Any]:
    return {"mode": call.principal.mode, "organization_id": call.principal.org_id}


class _Shown(InMemory):
    """Webhooks or event callbacks of an organization, as list_response pages them."""

    def __init__(self, request: web.Request, call: Call, rtype: str, rows: Sequence[Any]) -> None:
        super().__init__(rows)
        schema = "Webhook" if rtype == HOOKS_TYPE else "EventCallback"
        resolved = request.app[SPEC].schema(schema)
        self.request, self.call, self.rtype = request, call, rtype
        self.known_fields = _fields(request.app, schema)
        self.filterable = frozenset(resolved.get("x-filterable", ())) | {"id", "webhook_id"}
        self.sortable = frozenset(resolved.get("x-sortable", ()))
        self.relationships = ("last_event_callbacks",) if rtype == HOOKS_TYPE else ("webhook",)
        self.base = base_url(request, request.app[SETTINGS].public_url)

    def attributes(self, item: Any) -> Mapping[str, Any]:
        return item  # type: ignore[no-any-return]

    def render(self, item: Any, wanted: frozenset[str] | None) -> dict[str, Any]:
        attrs = sparse({k: item.get(k) for k in self.known_fields}, wanted)
        for name in ("metadata", "payload"):
            if name in attrs and attrs[name] is None:
                attrs[name] = {}
        return resource(self.base, self.rtype, item["id"], attrs, self.relationships,
                        _meta(self.call))

    def related(self, item: Any, name: str) -> list[dict[str, Any]]:
        records = _records(cl_tenant(self.request, self.call))
        if name == "webhook":
            hook = records.get(HOOKS_TYPE, item["webhook_id"])
            return [] if hook is None else [_Shown(self.request, self.call, HOOKS_TYPE, ())
                                            .render(hook, None)]
        shown = _Shown(self.request, self.call, CALLBACKS_TYPE, ())
        return [shown.render(c, None) for c in _callbacks(records, item["id"])]


def _callbacks(records: Any, webhook_id: str) -> list[dict[str, Any]]:
    """A webhook's event callbacks, newest first (`last_event_callbacks`)."""
    return [c for c in reversed(records.list(CALLBACKS_TYPE)) if c["webhook_id"] == webhook_id]


def _get(records: Any, rtype: str, rid: str) -> dict[str, Any]:
    found = records.get(rtype, rid)
    if found is None:
        raise NotFound(f"The requested {rtype[:-1].replace('_', ' ')} {rid!r} was not found.")
    return found  # type: ignore[no-any-return]


def _check_controls(hook: Mapping[str, Any]) -> None:
    """metadata.mock_delivery (the mock's delivery controls) must be usable: 422 naming it."""
    try:
        DeliveryFaults.of(hook)
    except DeliveryFaultError as err:
        path = "/".join(p for p in ("metadata", CONTROLS_KEY, err.key) if p)
        raise Unprocessable(f"{path.replace('/', '.')} - {err}",
                            pointer=f"/data/attributes/{path}", meta={"error": "invalid"}) from None


def _id(call: Call) -> str:
    return str(next(iter(call.path.values())))


@handles("listWebhooks", "listEventCallbacks")
async def list_all(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/webhooks, /api/event_callbacks: filtered, sorted, paged."""
    rtype = HOOKS_TYPE if call.op.operation_id == "listWebhooks" else CALLBACKS_TYPE
    rows = _records(cl_tenant(request, call)).list(rtype)
    return list_response(request, call, _Shown(request, call, rtype, rows))


@handles("getWebhook", "getEventCallback")
async def get_one(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/webhooks/{id}, /api/event_callbacks/{id}."""
    rtype = HOOKS_TYPE if call.op.operation_id == "getWebhook" else CALLBACKS_TYPE
    item = _get(_records(cl_tenant(request, call)), rtype, _id(call))
    shown = _Shown(request, call, rtype, ())
    return single_response(request, call, rtype, shown.relationships, item, shown.render,
                           shown.related, known_fields=shown.known_fields)


@handles("listWebhookLastEventCallbacks")
async def list_callbacks(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/webhooks/{id}/last_event_callbacks: the newest attempts first."""
    records = _records(cl_tenant(request, call))
    hook = _get(records, HOOKS_TYPE, _id(call))
    rows = _callbacks(records, hook["id"])
    return list_response(request, call, _Shown(request, call, CALLBACKS_TYPE, rows))


@handles("listEventCallbackWebhook")
async def callback_webhook(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /api/event_callbacks/{id}/webhook."""
    records = _records(cl_tenant(request, call))
    callback = _get(records, CALLBACKS_TYPE, _id(call))
    hook = _get(records, HOOKS_TYPE, callback["webhook_id"])
    return respond({"data": _Shown(request, call, HOOKS_TYPE, ()).render(hook, None)})


@handles("createWebhook")
async def create(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /api/webhooks: 201, with a shared secret to verify the deliveries' signatures."""
    app = request.app
    tenant = cl_tenant(request, call)
    records = _records(tenant)
    attrs = dict(call.body["data"].get("attributes") or {})
    stamp = cl_time(call.now)
    with tenant.lock:
        rid = records.new_id(HOOKS_TYPE)
        secret = hashlib.sha256(f"{app[SETTINGS].seed}/{'/'.join(tenant.key)}/{rid}"
                                .encode()).hexdigest()[:32]
        hook = {"id": rid, "name": None, "include_resources": None, "reference": None,
                "reference_origin": None, "metadata": {},
                **{k: v for k, v in attrs.items() if k in _fields(app, "Webhook")},
                "shared_secret": secret, "circuit_state": "closed", "circuit_failure_count": 0,
                "disabled_at": None, "created_at": stamp, "updated_at": stamp,
                # where the payloads' links point, and their meta (a delivery has no request)
                "_base": base_url(request, app[SETTINGS].public_url), "_meta": _meta(call)}
        if hook["metadata"] is None:
            hook["metadata"] = {}
        _check_controls(hook)
        records.save(HOOKS_TYPE, hook)
        tenant.records_changed()
    app[WEBHOOKS].watch(tenant)
    shown = _Shown(request, call, HOOKS_TYPE, ())
    return respond({"data": shown.render(hook, None)}, status=201)


@handles("updateWebhook")
async def update(request: web.Request, call: Call) -> web.StreamResponse:
    """PATCH /api/webhooks/{id}: attributes and the _disable, _enable, _reset_circuit triggers."""
    app = request.app
    tenant = cl_tenant(request, call)
    records = _records(tenant)
    rid = _id(call)
    data = call.body["data"]
    if data.get("id") != rid:  # notes: commercelayer_api.md §3 "Update body"
        raise BadRequest(f"The id in the body ({data.get('id')!r}) does not match the URL "
                         f"({rid!r}).", code="KEY_NOT_INCLUDED_IN_URL",
                         title="Key is not included in URL", pointer="/data/id")
    attrs = dict(data.get("attributes") or {})
    with tenant.lock:
        hook = dict(_get(records, HOOKS_TYPE, rid))
        stamp = cl_time(call.now)
        changed = {k: v for k, v in attrs.items()
                   if not k.startswith("_") and k in _fields(app, "Webhook")}
        if "metadata" in changed and changed["metadata"] is None:
            changed["metadata"] = {}
        if attrs.get("_disable") and not hook.get("disabled_at"):
            changed["disabled_at"] = stamp
        if attrs.get("_enable"):  # sent with _disable too: enabled (the vendor is silent)
            changed["disabled_at"] = None
        if attrs.get("_reset_circuit"):
            changed.update(circuit_state="closed", circuit_failure_count=0)
        if any(hook.get(k) != v for k, v in changed.items()):
            hook.update(changed, updated_at=stamp)
            _check_controls(hook)
            records.save(HOOKS_TYPE, hook)
            tenant.records_changed()
    app[WEBHOOKS].watch(tenant)
    return respond({"data": _Shown(request, call, HOOKS_TYPE, ()).render(hook, None)})


@handles("deleteWebhook")
async def delete(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /api/webhooks/{id}: 204; its event callbacks go with it."""
    tenant = cl_tenant(request, call)
    records = _records(tenant)
    with tenant.lock:
        hook = _get(records, HOOKS_TYPE, _id(call))
        records.delete(HOOKS_TYPE, hook["id"])
        tenant.records_changed()
    request.app[WEBHOOKS].watch(tenant)
    return web.Response(status=204)


def payload(app: web.Application, tenant: Tenant, job: Job, at: float,
            hook: Mapping[str, Any]) -> dict[str, Any]:
    """The job's JSON:API document as a GET at instant `at` returns it, with the webhook's
    `include_resources` included (events: the transitions up to `at`)."""
    rt = app[TYPES][job.kind]
    base = str(hook.get("_base") or "")
    token = LINK_BASE.set(base)
    try:
        with tenant.lock:
            app[HOOKS].settle_all(tenant, at)
            attrs = attributes(app, rt, tenant, job, at)
    finally:
        LINK_BASE.reset(token)
    meta = dict(hook.get("_meta") or {})
    data = resource(base, rt.name, job.id, attrs, rt.relationships, meta)
    doc: dict[str, Any] = {"data": data}
    wanted = [r for r in hook.get("include_resources") or () if r == "events"]
    if wanted:
        seen = job_view(rt.lifecycle, job, at)
        events = []
        for i, (status, when) in enumerate(seen.transitions):
            name = EVENT_NAMES.get(status, status)
            events.append(resource(base, "events", stable_id("events", job.id, str(i)),
                                   {"name": name, "created_at": cl_time(when),
                                    "updated_at": cl_time(when), "reference": None,
                                    "reference_origin": None, "metadata": {}}, (), meta))
        data["relationships"]["events"]["data"] = [{"type": "events", "id": e["id"]}
                                                   for e in events]
        doc["included"] = events
    return doc
