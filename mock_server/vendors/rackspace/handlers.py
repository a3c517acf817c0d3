"""Rackspace Cloud Backup v2 cleanup handlers: parse → domain → plain-JSON render.

Every handler serves both path forms, `/v2/{project_id}/cleanups...` and `/v2/cleanups...`
(notes: rackspace_cleanups.md §8 Base URL); links follow the form the request used.
"""

from __future__ import annotations

from aiohttp import web

from ...domain import jobs
from ...domain.errors import BadRequest, Conflict, NotFound
from ...domain.lifecycle import View
from ...domain.store import Job, Tenant
from ...handlers import handles, shows, tenant_of
from ...keys import HOOKS, RS_AGENTS, SETTINGS, TYPES
from ...namespace_path import base_url
from ...query import QueryError, marker_window
from ...timefmt import rs_time
from ...validation import Call
from . import cleanups as rs
from .auth import READ, WRITE, RsPrincipal
from .cleanups import KIND
from .render import (
    Scope,
    agent_json,
    cleanup_json,
    errors_json,
    event_json,
    marker_links,
    param_default,
    query_value,
    respond,
)
from .results import events, results


def _scope(request: web.Request, call: Call, rank: int, action: str) -> Scope:
    """The caller's project data, after the role check; effects due by now applied."""
    app = request.app
    principal: RsPrincipal = call.principal
    path_project = call.path.get("project_id")
    project = principal.project(path_project)
    principal.require(rank, action)
    tenant = tenant_of(request, call, "rs", project)
    app[HOOKS].settle_all(tenant, call.now)
    return _scope_of(request, tenant, project, in_path=path_project is not None)


def _scope_of(request: web.Request, tenant: Tenant, project: str, in_path: bool) -> Scope:
    """A project's scope, its links in the path form the request used (with or without it)."""
    app = request.app
    prefix = f"{base_url(request, app[SETTINGS].public_url)}/v2"
    if in_path:
        prefix += f"/{project}"
    return Scope(project, tenant, prefix, app[SETTINGS].seed, app[TYPES][KIND],
                 app[RS_AGENTS])


def _job(scope: Scope, call: Call) -> Job:
    job = scope.tenant.get(KIND, call.path["cleanup_id"])
    if job is None:
        raise NotFound("Cleanup not found.")
    return job


@handles("rsListCleanups", "rsListCleanupsNoProject")
async def list_cleanups(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /v2/{project_id}/cleanups: marker paging, newest first by default."""
    scope = _scope(request, call, READ, "list cleanups")
    marker, limit = call.query.get("marker"), int(query_value(call, "limit"))
    sort_dir = query_value(call, "sort_dir")
    rows = list(scope.tenant.scan(KIND))  # creation order = id order
    try:
        page = marker_window(rows, [j.id for j in rows], marker, limit, sort_dir)
    except QueryError:
        raise BadRequest(f"Invalid marker: this project has no cleanup with id {marker!r}.",
                         errors=[f"marker: unknown cleanup id {marker!r}"]) from None
    body: dict[str, object] = {"cleanups": [cleanup_json(scope, j, call.now) for j in page]}
    links = marker_links(f"{scope.prefix}/cleanups", [j.id for j in page], sort_dir, limit,
                         (param_default(call, "sort_dir"), param_default(call, "limit")))
    if links:
        body["links"] = links
    return respond(body)


@handles("rsCreateCleanup", "rsCreateCleanupNoProject")
async def create_cleanup(request: web.Request, call: Call) -> web.StreamResponse:
    """POST /v2/{project_id}/cleanups: 201, Location, the full cleanup in its first state."""
    app = request.app
    scope = _scope(request, call, WRITE, "start a cleanup")
    body = call.body
    agent = scope.agents.find(scope.project, body["agent_id"])
    if agent is None:
        raise NotFound("Agent not found.")  # notes: rackspace_cleanups.md §8 (PATCH agent 404)
    job = jobs.launch(scope.tenant, KIND, scope.rt.lifecycle, app[SETTINGS], call.now,
                      {"agent_id": agent.id}, 0, app[HOOKS].on_create,
                      {"headers": dict(request.headers), "attributes": dict(body)},
                      rackspace=True, prepare=lambda plan: rs.first_plan(plan, body["state"]))
    return respond(cleanup_json(scope, job, call.now), status=201,
                   headers={"Location": scope.cleanup_url(job.id)})


@handles("rsGetCleanup", "rsGetCleanupNoProject")
async def get_cleanup(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /v2/{project_id}/cleanups/{cleanup_id}."""
    scope = _scope(request, call, READ, "read cleanups")
    return respond(cleanup_json(scope, _job(scope, call), call.now))


@handles("rsUpdateCleanup", "rsUpdateCleanupNoProject")
async def update_cleanup(request: web.Request, call: Call) -> web.StreamResponse:
    """PATCH (JSON Patch): a user's stop request, or an agent's progress and results; 204."""
    scope = _scope(request, call, WRITE, "update a cleanup")
    job = _job(scope, call)
    lc = scope.rt.lifecycle
    with scope.tenant.lock:
        if rs.is_terminal(lc, job, call.now):
            raise Conflict(rs.TERMINAL_MESSAGE)
        ops = rs.parse_ops(call.body, scope.rt.statuses)
        rs.apply(scope.tenant, job, rs.update(lc, job, ops, call.now), call.now)
    return web.Response(status=204)


@handles("rsGetCleanupErrors", "rsGetCleanupErrorsNoProject")
async def get_cleanup_errors(request: web.Request, call: Call) -> web.StreamResponse:
    """GET .../errors: every error met so far (no paging)."""
    scope = _scope(request, call, READ, "read cleanups")
    return respond(errors_json(scope, _job(scope, call), call.now))


@handles("rsListCleanupEvents", "rsListCleanupEventsNoProject")
async def list_cleanup_events(request: web.Request, call: Call) -> web.StreamResponse:
    """GET .../events: one event per transition; marker = an event id, oldest first by default."""
    scope = _scope(request, call, READ, "read cleanups")
    job = _job(scope, call)
    lc = scope.rt.lifecycle
    marker = call.query.get("marker")
    limit, sort_dir = int(query_value(call, "limit")), query_value(call, "sort_dir")
    found = events(jobs.view(lc, job, call.now))
    if sort_dir == "desc":
        found.reverse()
    if marker is not None:
        # notes: rackspace_cleanups.md §6 — only events newer than the marker (older for desc);
        # compared as numbers, so the id of an event that has gone still works
        after = int(marker)
        found = [e for e in found if (e.id > after if sort_dir == "asc" else e.id < after)]
    page = found[:limit]
    body: dict[str, object] = {"events": [event_json(scope, job, e) for e in page]}
    links = marker_links(f"{scope.cleanup_url(job.id)}/events", [str(e.id) for e in page],
                         sort_dir, limit,
                         (param_default(call, "sort_dir"), param_default(call, "limit")))
    if links:
        body["links"] = links
    return respond(body)


@handles("rsListAgents", "rsListAgentsNoProject")
async def list_agents(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /v2/{project_id}/agents: the configured agents of the project."""
    scope = _scope(request, call, READ, "list agents")
    return respond({"agents": [agent_json(scope, a) for a in scope.agents.in_project(
        scope.project)]})


@handles("rsGetAgent", "rsGetAgentNoProject")
async def get_agent(request: web.Request, call: Call) -> web.StreamResponse:
    """GET /v2/{project_id}/agents/{agent_id}: where a cleanup's agent link points."""
    scope = _scope(request, call, READ, "read agents")
    agent = scope.agents.find(scope.project, call.path["agent_id"])
    if agent is None:
        raise NotFound("Agent not found.")  # notes: rackspace_cleanups.md §8 (PATCH agent 404)
    return respond(agent_json(scope, agent))


def _counts(app: web.Application, job: Job, seen: View) -> tuple[int, int]:
    found = results(app[SETTINGS].seed, app[TYPES][KIND].lifecycle, job, seen)
    return seen.processed, found.errors.count


@shows(KIND, counts=_counts)
def api_view(request: web.Request, tenant: Tenant, job: Job, now: float) -> dict[str, object]:
    """A cleanup as GET shows it (links in the project path form) and its events."""
    scope = _scope_of(request, tenant, tenant.key[-1], in_path=True)
    seen = jobs.view(scope.rt.lifecycle, job, now)
    return {"attributes": cleanup_json(scope, job, now),
            "events": [{"name": e.event, "status": e.state, "at": rs_time(e.at)}
                       for e in events(seen)]}
