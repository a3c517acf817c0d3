"""Admin API handlers under /_mock/ (tag admin): thin wrappers around admin.Controls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..domain.errors import Forbidden, NotFound, Unprocessable
from ..handlers import API_VIEWS, handles
from ..headers import NAMESPACE_HEADER
from ..jsonenc import dumps
from ..keys import CLOCK, CONTROLS, FAULTS, HOOKS, JOURNAL, RATE_LIMITER, SETTINGS, SHARED, SPEC, STORE
from ..namespace_path import base_url, link_prefix
from ..spec.text import served
from ..validation import Call
from .faults import FaultError
from .journal import Entry, Query

if TYPE_CHECKING:
    from ..domain.store import TenantKey


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


def namespace_scope(request: web.Request, call: Call, default: str | None = None) -> str | None:
    """Explicit `namespace` (body or query) > X-Mock-Namespace header > `default`. Through a
    `/_ns/<ns>` prefix only `<ns>` itself: another namespace's data is not its to see."""
    body = call.body if isinstance(call.body, dict) else {}
    given = body.get("namespace") or call.query.get("namespace")
    if link_prefix(request):
        own = request.headers[NAMESPACE_HEADER]  # the prefix's, set by namespace_path
        if given and given != own:
            raise Forbidden(f"This URL is namespace {own!r}'s: it cannot reach namespace "
                            f"{given!r} (use the server's own /_mock/ for that).",
                            parameter="namespace")
        return own
    return given or request.headers.get(NAMESPACE_HEADER) or default


def _job_namespace(request: web.Request, call: Call) -> str:
    return namespace_scope(request, call, "default") or "default"


@handles("adminHealth")
async def health(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/health."""
    return _json({"status": "ok"})


@handles("adminGetSpecYaml", "adminGetSpecJson")
async def get_spec(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/openapi.yaml | .json: the spec this mock serves, naming this mock."""
    fmt = "json" if request.path.endswith(".json") else "yaml"
    base = base_url(request, request.app[SETTINGS].public_url)
    spec = request.app[SPEC]
    body = spec.texts.get((fmt, base))
    if body is None:
        if len(spec.texts) > 16:  # bases a client can choose (Host): kept few
            spec.texts.clear()
        body = spec.texts[(fmt, base)] = served(spec.doc, base, fmt)
    return web.Response(body=body, content_type="application/json" if fmt == "json"
                        else "application/yaml")


@handles("adminGetClock")
async def get_clock(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/clock (a namespace's own clock when it keeps one)."""
    return _json(request.app[CONTROLS].clock_state(request.headers.get(NAMESPACE_HEADER)))


@handles("adminSetClock")
async def set_clock(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/clock: set, advance, speed, freeze, resume."""
    namespace = request.headers.get(NAMESPACE_HEADER)
    return _json(request.app[CONTROLS].set_clock(**call.body, namespace=namespace))


@handles("adminReset")
async def reset(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/reset: everything, or one namespace."""
    return _json(request.app[CONTROLS].reset(namespace_scope(request, call)))


@handles("adminListFaults")
async def list_faults(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/faults: rules (of one namespace plus the global ones) and rate-limit state."""
    app = request.app
    return _json({"rules": app[FAULTS].list(namespace_scope(request, call)),
                  "rate_limits": app[RATE_LIMITER].as_dict()})


@handles("adminAddFault")
async def add_fault(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/faults: 201 with the rule and its id."""
    body = dict(call.body)
    namespace = body.pop("namespace", None) or request.headers.get(NAMESPACE_HEADER)
    try:
        rule = request.app[FAULTS].add(body, namespace=namespace)
    except FaultError as exc:
        raise Unprocessable(str(exc), pointer="/" + exc.key.replace(".", "/"),
                            meta={"error": "invalid"}) from None
    return _json({**rule.as_dict(), "hits": 0}, status=201)


@handles("adminClearFaults")
async def clear_faults(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/faults: one namespace's rules, or all (config rules come back)."""
    return _json({"removed": request.app[FAULTS].clear(namespace_scope(request, call))})


@handles("adminDeleteFault")
async def delete_fault(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/faults/{faultId}."""
    fault_id = str(call.path["faultId"])
    if not request.app[FAULTS].remove(fault_id):
        raise NotFound(f"No fault rule {fault_id!r}.", parameter="faultId")
    return _json({"removed": 1})


@handles("adminGetRateLimits")
async def get_rate_limits(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/rate_limits: on or off, and the numbers."""
    return _json(request.app[RATE_LIMITER].as_dict())


@handles("adminSetRateLimits")
async def set_rate_limits(request: web.Request, call: Call) -> web.StreamResponse:
    """PUT /_mock/rate_limits: switch the vendor's limits on or off."""
    limiter = request.app[RATE_LIMITER]
    limiter.enable(bool(call.body["enabled"]))
    return _json(limiter.as_dict())


async def _settled(request: web.Request, call: Call, key: TenantKey) -> None:
    """Apply a tenant's effects due by now, as an API read of it does first. Replicas: a read
    catches up first and settles in the tenant's transaction when anything is due; an admin
    change is in a transaction of its own already."""
    app = request.app

    async def settle(request: web.Request, call: Call) -> web.StreamResponse:
        tenant = app[STORE].peek(key)
        if tenant is not None:
            app[HOOKS].settle_all(tenant, app[CLOCK].now(key[0]))
        return web.Response()

    shared = app.get(SHARED)
    if shared is None or request.method != "GET":
        await settle(request, call)
    else:
        await shared.serve_tenant(key, request, call, settle)


async def _job_view(request: web.Request, call: Call, kind: str, job_id: str,
                    namespace: str) -> web.Response:
    """A job as every /_mock/jobs/{type}/{id} answer shows it: its row, plan and transitions,
    and its attributes and events as its vendor's API shows them now."""
    controls = request.app[CONTROLS]
    tenant, _ = controls.find(kind, job_id, namespace)
    await _settled(request, call, tenant.key)
    return _json(controls.job(kind, job_id, namespace,
                              api=lambda t, job, now: API_VIEWS[kind](request, t, job, now)))


@handles("adminGetJob")
async def get_job(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/jobs/{type}/{id}."""
    return await _job_view(request, call, str(call.path["type"]), str(call.path["id"]),
                           _job_namespace(request, call))


@handles("adminListJobs")
async def list_jobs(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/jobs: every job, newest first (the dashboard's list), as API reads would
    see them now."""
    q, controls = call.query, request.app[CONTROLS]
    namespace = namespace_scope(request, call)
    for key in [t.key for t in request.app[STORE].tenants(namespace)]:
        await _settled(request, call, key)
    return _json(controls.jobs(namespace, q.get("type"), q.get("status"),
                               int(q.get("limit") or 200)))


@handles("adminSetJobScenario")
async def set_scenario(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/jobs/{type}/{id}/scenario: attach a scenario and/or release a stall."""
    body = dict(call.body)
    body.pop("namespace", None)
    release = bool(body.pop("release", False))
    kind, job_id, namespace = str(call.path["type"]), str(call.path["id"]), \
        _job_namespace(request, call)
    request.app[CONTROLS].scenario(kind, job_id, body, namespace, release=release)
    return await _job_view(request, call, kind, job_id, namespace)


@handles("adminAdvanceJob")
async def advance_job(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/jobs/{type}/{id}/advance: the job reaches status `to` now."""
    kind, job_id, namespace = str(call.path["type"]), str(call.path["id"]), \
        _job_namespace(request, call)
    request.app[CONTROLS].advance(kind, job_id, str(call.body["to"]), namespace)
    return await _job_view(request, call, kind, job_id, namespace)


def _query(request: web.Request, call: Call) -> Query:
    q = call.query
    status = q.get("status")
    return Query(method=q.get("method"), path=q.get("path"),
                 namespace=namespace_scope(request, call), status=None if status is None else str(status),
                 operation=q.get("operation"), body=q.get("body"), job=q.get("job"))


async def _entries(request: web.Request, query: Query) -> list[Entry]:
    """Matching journal entries: this server's, or every replica's when they share a database."""
    shared = request.app.get(SHARED)
    if shared is None:
        return request.app[JOURNAL].entries(query)
    return [e for e in await shared.journal(query.namespace) if query.matches(e)]


@handles("adminListRequests")
async def list_requests(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/requests: journal entries, oldest first (`limit` keeps the newest N)."""
    entries = await _entries(request, _query(request, call))
    limit = call.query.get("limit")
    shown = entries[-limit:] if limit else entries
    full = call.query.get("credentials") == "full"
    return _json({"count": len(entries), "requests": [e.as_dict(full) for e in shown]})


@handles("adminCountRequests")
async def count_requests(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/requests/count."""
    return _json({"count": len(await _entries(request, _query(request, call)))})


@handles("adminClearRequests")
async def clear_requests(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/requests: one namespace's entries, or all."""
    return _json({"removed": request.app[JOURNAL].clear(namespace_scope(request, call))})
