"""Drive one job through its API: create, read, interrupt, resume, delete, and poll over time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from .client import ApiClient, expect
from .model import Job, Lifecycle, model_of
from .timeline import BudgetExhausted, Timeline

RUN = uuid.uuid4().hex[:8]  # marks what this run creates (reference, tag names, filters)


@dataclass(frozen=True, slots=True)
class JobKind:
    """One job type as the explicit tests drive it."""

    kind: str  # x-resource
    api: str  # commercelayer | rackspace
    collection: str  # e.g. /api/exports or /v2/{project_id}/cleanups (filled in)
    body: Callable[[str, str], Any]  # create body for (resource type or agent id, reference)
    choices: tuple[str, ...]  # resource types (or agent ids) to try, first accepted wins
    lifecycle: Lifecycle

    def item(self, job_id: str) -> str:
        """The job's own path."""
        return f"{self.collection}/{job_id}"


def _cl_body(kind: str) -> Callable[[str, str], Any]:
    def body(resource_type: str, reference: str) -> Any:
        attrs: dict[str, Any] = {"resource_type": resource_type, "reference": reference,
                                 "reference_origin": "contract-tests"}
        if kind == "imports":
            # Harmless on a real server: a few tags named for this run.
            attrs["inputs"] = [{"name": f"contract-{RUN}-{i}"} for i in range(3)]
        if kind == "cleanups":
            # A filter no record matches, so a real server deletes nothing.
            attrs["filters"] = {"id_in": [f"contract-none-{RUN}"]}
        return {"data": {"type": kind, "attributes": attrs}}
    return body


def kinds(spec: Mapping[str, Any], project_id: str, agent_id: str) -> dict[str, JobKind]:
    """Every job type the spec declares, keyed by x-resource."""
    model = model_of(spec)
    out: dict[str, JobKind] = {}
    choices = {"imports": ("tags", "skus"), "exports": ("skus", "tags", "orders", "prices"),
               "cleanups": ("skus",)}
    for rtype, lc in model.jsonapi.items():
        out[rtype] = JobKind(rtype, "commercelayer", f"/api/{rtype}", _cl_body(rtype),
                             choices.get(rtype, ("skus",)), lc)
    for _, lc in model.plain.items():
        out[lc.kind] = JobKind(
            lc.kind, "rackspace", f"/v2/{project_id}/cleanups",
            lambda agent, _: {"agent_id": agent, "state": "start_requested"}, (agent_id,), lc)
    return out


class NotCreatable(Exception):
    """The server refused every create we tried: no check of that job type can run, a failure."""


def create(client: ApiClient, kind: JobKind, reference: str | None = None) -> Job:
    """Create a job (trying each choice until one is accepted) and return its first snapshot."""
    refusals: list[str] = []
    for choice in kind.choices:
        resp = client.post(kind.collection, kind.body(choice, reference or f"contract-{RUN}"))
        if resp.status_code == 201:
            return snapshot(client, kind, resp)
        if resp.status_code not in (404, 409, 422):
            expect(resp, 201)
        refusals.append(f"{choice} → {resp.status_code} {_reason(resp)}")
    raise NotCreatable("; ".join(refusals))


def _reason(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:80]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or errors[0].get("title") or "")[:80]
    return str(body.get("message", ""))[:80] if isinstance(body, dict) else ""


def snapshot(client: ApiClient, kind: JobKind, resp: requests.Response) -> Job:
    """The job a response shows."""
    jobs = [j for j in model_of(client.spec).jobs_in(resp.request.path_url, resp.json())
            if j.kind == kind.kind]
    assert jobs, f"no {kind.kind} job in {resp.text[:300]}"
    return jobs[0]


def read(client: ApiClient, kind: JobKind, job_id: str) -> Job:
    """GET the job now."""
    return snapshot(client, kind, expect(client.get(kind.item(job_id)), 200))


def interrupt(client: ApiClient, kind: JobKind, job_id: str) -> requests.Response:
    """Ask a job to stop: `_interrupt` (Commerce Layer) or state=stop_requested (Rackspace)."""
    if kind.api == "rackspace":
        body: Any = [{"op": "replace", "path": "/state", "value": "stop_requested"}]
        return client.patch(kind.item(job_id), body, media="application/json-patch+json")
    return client.patch(kind.item(job_id), _trigger(kind, job_id, "_interrupt"))


def resume(client: ApiClient, kind: JobKind, job_id: str) -> requests.Response:
    """PATCH `_start` (exports resume an interrupted job)."""
    return client.patch(kind.item(job_id), _trigger(kind, job_id, "_start"))


def _trigger(kind: JobKind, job_id: str, name: str) -> Any:
    return {"data": {"type": kind.kind, "id": job_id, "attributes": {name: True}}}


def poll(client: ApiClient, kind: JobKind, job_id: str, timeline: Timeline,
         until: Callable[[Job], bool], *, max_virtual: float = 3600.0) -> list[Job]:
    """Read the job over time until `until` holds; every read goes through the contract rules.

    With clock control, time moves in small virtual steps (growing later) so intermediate
    states are seen; otherwise real time passes within the session's budget. A job that never
    gets there is a contract problem (noted in the client's findings); the snapshots seen so far
    are returned, so the caller can tell by the last one.
    """
    seen = [read(client, kind, job_id)]
    moved, step = 0.0, 0.25
    while not until(seen[-1]):
        last = seen[-1]
        documented = f"Documented: a job reaches {sorted(last.lifecycle.terminal)}"
        if timeline.controlled and moved >= max_virtual:
            client.problem(f"{last.label}: still `{last.status}` after {max_virtual:g} virtual "
                           f"seconds of the mock's clock. Received {len(seen)} reads / "
                           f"{documented} within its planned durations")
            return seen
        delta = step if timeline.controlled else timeline.interval
        try:
            timeline.advance(delta)
        except BudgetExhausted as exc:
            client.problem(f"{last.label}: still `{last.status}` when the real-time polling "
                           f"budget ran out ({exc}; --poll-budget raises it). Received "
                           f"{len(seen)} reads / {documented}")
            return seen
        moved += delta
        if timeline.controlled and len(seen) > 40:
            step = min(step * 2, 600.0)
        seen.append(read(client, kind, job_id))
    return seen


def terminal(job: Job) -> bool:
    """The job's status is final."""
    return job.status in job.lifecycle.terminal


def running(job: Job) -> bool:
    """The job has started working (or already finished)."""
    lc = job.lifecycle
    return job.status is not None and lc.ranks.get(job.status, 0) >= max(
        lc.ranks.get("in_progress", 0), 1)


__all__ = ["BudgetExhausted", "JobKind", "NotCreatable", "create", "interrupt", "kinds", "poll",
           "read", "resume", "running", "terminal"]
