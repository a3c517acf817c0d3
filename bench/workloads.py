"""The workloads w1–w4 as request lists that any load generator cycles through in order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

JSONAPI = "application/vnd.api+json"
NAMESPACE_HEADER = "X-Mock-Namespace"
SCENARIO_HEADER = "X-Mock-Scenario"
LIST_PATH = "/api/imports?sort=-created_at&page%5Bsize%5D=25"
# w1r reads an export that stays in progress (X-Mock-Scenario: stall): rendered on every read,
# where w1's ended export is answered by the fast path (mock_server/fast_path.py).
WORKLOADS = ("w1", "w1r", "w2", "w3", "w4")


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request of a workload (path includes the query string)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class Workload:
    """A named cycle of requests."""

    name: str
    title: str
    requests: tuple[Request, ...]


def token() -> str:
    """A Commerce Layer-shaped JWT for org acme (peers only check that a bearer is present)."""
    from mock_server.vendors.commercelayer.auth import encode

    return encode({
        "organization": {"id": "bench-org", "slug": "acme"},
        "application": {"id": "bench-app", "kind": "integration", "client_id": "bench"},
        "test": True,
    })


def headers(tok: str, namespace: str | None, body: bool = False) -> dict[str, str]:
    """JSON:API headers as the official clients send them."""
    out = {"Authorization": f"Bearer {tok}", "Accept": JSONAPI}
    if body:
        out["Content-Type"] = JSONAPI
    if namespace:
        out[NAMESPACE_HEADER] = namespace
    return out


def import_body(n_inputs: int = 10, serial: int = 0) -> bytes:
    """POST /api/imports body with `n_inputs` sku rows (the issue's "import with 10 inputs").

    Every row is valid, so the import completes without errors, and every import upserts the
    same `n_inputs` skus (a CI suite re-importing its catalog): the organization's records stay
    put, so memory per stored job measures the job, not the records it wrote.
    """
    inputs = [
        {"code": f"BENCH-{i:02d}", "name": f"Bench sku {i} of import {serial}", "do_not_ship": True}
        for i in range(n_inputs)
    ]
    doc = {"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": inputs, "reference": f"bench-{serial}"}}}
    return json.dumps(doc, separators=(",", ":")).encode()


def build(tok: str, namespace: str | None, single_path: str, ids: Sequence[str],
          post_namespace: str | None = None, running_path: str | None = None
          ) -> dict[str, Workload]:
    """w1–w4 against one server; `single_path` is the w1 target (an ended export),
    `running_path` w1r's (one that stays in progress), `ids` are imports to poll."""
    get = headers(tok, namespace)
    post = headers(tok, post_namespace or namespace, body=True)
    create = Request("POST", "/api/imports", post, import_body())
    polls = [Request("GET", f"/api/imports/{i}", get) for i in (list(ids) or ["unknown"])[:16]]
    listing = Request("GET", LIST_PATH, get)
    fleet: list[Request] = []
    # A polling fleet: 16 status polls, 2 dashboard lists, 1 create and 1 export poll per 20.
    for i in range(16):
        fleet.append(polls[i % len(polls)])
        if i in (5, 12):
            fleet.append(listing)
    fleet.insert(10, Request("POST", "/api/imports", headers(tok, namespace, body=True),
                             import_body()))
    fleet.append(Request("GET", single_path, get))
    return {
        "w1": Workload("w1", "GET one export by id", (Request("GET", single_path, get),)),
        "w1r": Workload("w1r", "GET one running export by id",
                        (Request("GET", running_path or single_path, get),)),
        "w2": Workload("w2", "GET 25 imports, sort=-created_at", (listing,)),
        "w3": Workload("w3", "POST an import with 10 inputs", (create,)),
        "w4": Workload("w4", "polling fleet mix (16 polls, 2 lists, 1 create, 1 export)",
                       tuple(fleet)),
    }
