"""Admin API handlers under /_mock/ (tag admin): thin wrappers around admin.Controls."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..domain.errors import NotFound, Unprocessable
from ..handlers import handles
from ..headers import NAMESPACE_HEADER
from ..keys import CONTROLS, FAULTS, JOURNAL, RATE_LIMITER, SHARED
from ..validation import Call
from .faults import FaultError
from .journal import Entry, Query


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _namespace(request: web.Request, call: Call, default: str | None = None) -> str | None:
    """Explicit `namespace` (body or query) > X-Mock-Namespace header > `default`."""
    body = call.body if isinstance(call.body, dict) else {}
    given = body.get("namespace") or call.query.get("namespace")
    return given or request.headers.get(NAMESPACE_HEADER) or default


def _job_namespace(request: web.Request, call: Call) -> str:
    return _namespace(request, call, "default") or "default"


@handles("adminHealth")
async def health(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/health."""
    return _json({"status": "ok"})


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
    return _json(request.app[CONTROLS].reset(_namespace(request, call)))


@handles("adminListFaults")
async def list_faults(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/faults: rules (of one namespace plus the global ones) and rate-limit state."""
    app = request.app
    return _json({"rules": app[FAULTS].list(_namespace(request, call)),
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
    return _json({"removed": request.app[FAULTS].clear(_namespace(request, call))})


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


@handles("adminGetJob")
async def get_job(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/jobs/{type}/{id}: plan, scenario and status now."""
    controls = request.app[CONTROLS]
    return _json(controls.job(str(call.path["type"]), str(call.path["id"]),
                              _job_namespace(request, call)))


@handles("adminListJobs")
async def list_jobs(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/jobs: every job, newest first (the dashboard's list)."""
    q = call.query
    return _json(request.app[CONTROLS].jobs(_namespace(request, call), q.get("type"),
                                            q.get("status"), int(q.get("limit") or 200)))


@handles("adminSetJobScenario")
async def set_scenario(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/jobs/{type}/{id}/scenario: attach a scenario and/or release a stall."""
    body = dict(call.body)
    body.pop("namespace", None)
    release = bool(body.pop("release", False))
    controls = request.app[CONTROLS]
    return _json(controls.scenario(str(call.path["type"]), str(call.path["id"]), body,
                                   _job_namespace(request, call), release=release))


@handles("adminAdvanceJob")
async def advance_job(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /_mock/jobs/{type}/{id}/advance: the job reaches status `to` now."""
    controls = request.app[CONTROLS]
    return _json(controls.advance(str(call.path["type"]), str(call.path["id"]),
                                  str(call.body["to"]), _job_namespace(request, call)))


def _query(request: web.Request, call: Call) -> Query:
    q = call.query
    status = q.get("status")
    return Query(method=q.get("method"), path=q.get("path"),
                 namespace=_namespace(request, call), status=None if status is None else str(status),
                 operation=q.get("operation"), body=q.get("body"))


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
    return _json({"count": len(entries), "requests": [e.as_dict() for e in shown]})


@handles("adminCountRequests")
async def count_requests(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /_mock/requests/count."""
    return _json({"count": len(await _entries(request, _query(request, call)))})


@handles("adminClearRequests")
async def clear_requests(request: web.Request, call: Call) -> web.StreamResponse:
    """DELETE /_mock/requests: one namespace's entries, or all."""
    return _json({"removed": request.app[JOURNAL].clear(_namespace(request, call))})
