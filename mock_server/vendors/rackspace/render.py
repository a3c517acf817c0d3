"""Rackspace v2 rendering: cleanup, errors and event objects, marker links, plain JSON responses."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ...domain import jobs
from ...domain.errors import JSON
from ...domain.model import ResourceType
from ...domain.store import Job, Tenant
from ...timefmt import rs_time
from ...validation import Call
from .agents import Agent, AgentBook
from .results import Event, needs_request_id, request_id, results


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a /v2 request works: project, its data, and the link prefix it used."""

    project: str
    tenant: Tenant
    prefix: str  # absolute `.../v2/{project_id}`, or `.../v2` when the request left it out
    seed: int
    rt: ResourceType
    agents: AgentBook

    def agent_url(self, agent_id: str) -> str:
        """Where an agent's `full` link points, in the path form the client used."""
        return f"{self.prefix}/agents/{agent_id}"

    def cleanup_url(self, job_id: str) -> str:
        """The cleanup's own URL, in the path form the client used."""
        return f"{self.prefix}/cleanups/{job_id}"


def agent_json(scope: Scope, agent: Agent) -> dict[str, Any]:
    """One backup agent (inferred shape: the fields the cleanup pages show of it)."""
    return {"id": agent.id, "project_id": scope.project,
            "vault": {"id": agent.vault_id, "encrypted": agent.encrypted},
            "links": [{"href": scope.agent_url(agent.id), "rel": "full"}]}


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A plain JSON response, as every v2 endpoint answers."""
    return web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(),
                        content_type=JSON, headers=headers)


def param_default(call: Call, name: str) -> Any:
    """The default the spec declares for a query parameter (limit 100, sort_dir asc|desc)."""
    return next((p.schema.get("default") for p in call.op.params_in("query") if p.name == name),
                None)


def query_value(call: Call, name: str) -> Any:
    """A query parameter's value, or its spec default."""
    value = call.query.get(name)
    return param_default(call, name) if value is None else value


def cleanup_json(scope: Scope, job: Job, now: float) -> dict[str, Any]:
    """One cleanup as GET shows it at `now` (notes: rackspace_cleanups.md §0)."""
    lc = scope.rt.lifecycle
    seen = jobs.view(lc, job, now)
    res = results(scope.seed, lc, job, seen)
    url = scope.cleanup_url(job.id)
    agent_id = job.fields["agent_id"]
    computed: dict[str, Any] = {
        "project_id": scope.project,
        "id": job.id,
        "agent": {"id": agent_id,
                  "links": [{"href": scope.agent_url(agent_id), "rel": "full"}]},
        scope.rt.status_field: seen.status,
        "started_time": job.fields.get("started_time", rs_time(seen.started_at)),
        "ended_time": job.fields.get("ended_time", rs_time(seen.ended_at)),
        "snapshot_ids": res.snapshot_ids,
        "errors": {
            "count": res.errors.count,
            "reason": res.errors.reason,
            "diagnostics": res.errors.diagnostics,
            "links": [{"href": f"{url}/errors", "rel": "full"}],
        },
        "bytes_before": res.bytes_before,
        "bytes_after": res.bytes_after,
        "links": [{"href": url, "rel": "self"}, {"href": f"{url}/events", "rel": "events"}],
    }
    # Field order and set come from the spec; a field the spec adds shows what the agent sent.
    return {name: computed.get(name, job.fields.get(name)) for name in scope.rt.attributes}


def errors_json(scope: Scope, job: Job, now: float) -> dict[str, Any]:
    """GET .../errors (notes: rackspace_cleanups.md §5: diagnostics is always null here)."""
    lc = scope.rt.lifecycle
    found = results(scope.seed, lc, job, jobs.view(lc, job, now)).errors
    return {
        "count": found.count,
        "reason": found.reason,
        "diagnostics": None,
        "list": [item.as_json() for item in found.items],
        "links": [{"href": f"{scope.cleanup_url(job.id)}/errors", "rel": "self"}],
    }


def event_json(scope: Scope, job: Job, event: Event) -> dict[str, Any]:
    """One event (notes: rackspace_cleanups.md §6): the start request also names the vault."""
    agent_id = job.fields["agent_id"]
    agent: dict[str, Any] = {"id": agent_id}
    if event.event == "cleanup_start_request":
        vault, encrypted = scope.agents.vault_of(scope.project, agent_id)
        agent["vault"] = {"id": vault, "encrypted": encrypted}
    out: dict[str, Any] = {
        "id": str(event.id),
        "time": rs_time(event.at),
        "event": event.event,
        "agent": agent,
        "cleanup": {"id": job.id},
    }
    if needs_request_id(event):
        out["request_id"] = request_id(scope.seed, job.id, event.state)
    return out


def marker_links(
    url: str,
    page: Sequence[str],
    sort_dir: str,
    limit: int,
    defaults: tuple[str, int],
) -> list[dict[str, str]]:
    """`next` (marker = last id, same direction) and `previous` (marker = first id, reversed).

    notes: rackspace_cleanups.md §8 Pagination. The documented links drop `limit` and `sort_dir`;
    the mock writes each only when it differs from the default, so that following `next` keeps
    the direction and page size the client chose (the bare documented form would turn an `asc`
    walk around). No links on an empty page (§8: links may be missing when the list is empty).
    """
    if not page:
        return []
    default_dir, default_limit = defaults

    def href(marker: str, direction: str) -> str:
        pairs = [("marker", marker)]
        if limit != default_limit:
            pairs.append(("limit", str(limit)))
        if direction != default_dir:
            pairs.append(("sort_dir", direction))
        return f"{url}?{urlencode(pairs)}"

    back = "asc" if sort_dir == "desc" else "desc"
    return [{"href": href(page[-1], sort_dir), "rel": "next"},
            {"href": href(page[0], back), "rel": "previous"}]
