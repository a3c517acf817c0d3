"""The contract's view of openapi.yaml: job types, their lifecycles, and jobs found in responses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

JSONAPI = "application/vnd.api+json"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """How one job type's status may move, and which fields each status implies."""

    kind: str  # the schema's x-resource
    status_field: str
    ranks: Mapping[str, int]  # a status may only move to an equal or higher rank
    terminal: frozenset[str]
    interrupted: str  # what a stop or `_interrupt` ends in
    resumable: frozenset[str] = frozenset()  # terminal statuses a `_start` may reopen
    must_be_set: Mapping[str, frozenset[str]] = field(default_factory=dict)  # field → statuses
    must_be_null: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ordered: tuple[tuple[str, str], ...] = ()  # (earlier, later) timestamp pairs
    counters: tuple[str, ...] = ()  # never decrease, never exceed the total
    total: tuple[str, ...] = ()  # fields holding the job's size (first one present wins)
    summed: tuple[str, ...] = ()  # counters whose sum cannot exceed the total
    progress: str | None = None  # a 0–100 percentage that never decreases

    @property
    def statuses(self) -> frozenset[str]:
        """Every status this lifecycle knows."""
        return frozenset(self.ranks)

    def describe(self) -> str:
        """The documented order, e.g. `pending → in_progress → completed|interrupted`."""
        groups: dict[int, list[str]] = {}
        for status, rank in self.ranks.items():
            groups.setdefault(rank, []).append(status)
        return " → ".join("|".join(groups[r]) for r in sorted(groups))


def _ranks(*groups: Sequence[str]) -> dict[str, int]:
    return {status: i for i, group in enumerate(groups) for status in group}


_CL_TIMES = (("created_at", "started_at"), ("started_at", "completed_at"),
             ("started_at", "interrupted_at"), ("created_at", "interrupted_at"),
             ("created_at", "completed_at"), ("created_at", "updated_at"))


def _cl(kind: str, terminal: Sequence[str], counters: Sequence[str], total: str,
        **extra: Any) -> Lifecycle:
    # notes: commercelayer_api.md §2.1 — create returns pending with null timestamps; the CLI and
    # dashboard treat completed and interrupted (and failed, exports only) as final.
    return Lifecycle(
        kind=kind,
        status_field="status",
        ranks=_ranks(["pending"], ["in_progress"], terminal),
        terminal=frozenset(terminal),
        interrupted="interrupted",
        must_be_set={
            "started_at": frozenset({"in_progress", "completed"}),
            "completed_at": frozenset({"completed"}),
            "interrupted_at": frozenset({"interrupted"}),
        },
        # Inferred: completed_at/interrupted_at belong to their own status only; an interrupted or
        # failed job may or may not have started, so started_at is left free there.
        must_be_null={
            "started_at": frozenset({"pending"}),
            "completed_at": frozenset(set(terminal) - {"completed"} | {"pending", "in_progress"}),
            "interrupted_at": frozenset(set(terminal) - {"interrupted"} | {"pending", "in_progress"}),
        },
        ordered=_CL_TIMES,
        counters=tuple(counters),
        total=(total,),
        summed=tuple(c for c in counters if c in ("processed_count", "errors_count")),
        **extra,
    )


_RS_TERMINAL = ("completed", "completed_with_errors", "failed", "stopped")

# Keyed by x-resource. The spec has status enums but no transition table, so the order lives here
# (a spec may carry `x-lifecycle: {stages: [[...], ...], terminal: [...]}` on the job schema, which
# then wins); every status must match the spec's enum exactly, so the two cannot drift silently.
BUILTIN: dict[str, Lifecycle] = {
    "imports": _cl("imports", ("completed", "interrupted"),
                   ("processed_count", "errors_count", "warnings_count"), "inputs_size"),
    # notes: commercelayer_api.md §1.3, §2.1 — failed is exports-only; _start resumes interrupted
    "exports": _cl("exports", ("completed", "interrupted", "failed"), ("processed_count",),
                   "records_count", resumable=frozenset({"interrupted"}), progress="progress"),
    "cleanups": _cl("cleanups", ("completed", "interrupted"), ("processed_count", "errors_count"),
                    "records_count"),
    # notes: rackspace_cleanups.md §7 (diagram inferred there): start → queued → in_progress → end,
    # and stop_requested from any running state, ending in stopped.
    "rackspace_cleanups": Lifecycle(
        kind="rackspace_cleanups",
        status_field="state",
        ranks=_ranks(["start_requested", "start_scheduled"], ["queued"], ["in_progress"],
                     ["stop_requested"], _RS_TERMINAL),
        terminal=frozenset(_RS_TERMINAL),
        interrupted="stopped",
        # notes: rackspace_cleanups.md §1 POST example — started_time and ended_time null at first
        must_be_set={
            "started_time": frozenset({"in_progress", "completed", "completed_with_errors"}),
            "ended_time": frozenset(_RS_TERMINAL),
        },
        must_be_null={
            "started_time": frozenset({"start_requested", "start_scheduled"}),
            "ended_time": frozenset({"start_requested", "start_scheduled", "queued",
                                     "in_progress", "stop_requested"}),
        },
        ordered=(("started_time", "ended_time"),),
    ),
}


@dataclass(frozen=True, slots=True)
class Job:
    """One job as a response showed it: type, id and its attributes (status included)."""

    kind: str
    id: str
    attrs: Mapping[str, Any]
    lifecycle: Lifecycle

    @property
    def status(self) -> str | None:
        """The job's status, if the response carried it (sparse fieldsets may leave it out)."""
        value = self.attrs.get(self.lifecycle.status_field)
        return value if isinstance(value, str) else None

    @property
    def label(self) -> str:
        """`exports/abc123`."""
        return f"{self.kind}/{self.id}"


@dataclass(frozen=True, slots=True)
class JobModel:
    """Job types read from a spec: JSON:API ones by `type`, plain ones (Rackspace) by shape."""

    jsonapi: Mapping[str, Lifecycle]  # JSON:API `type` → lifecycle
    plain: Mapping[str, Lifecycle]  # list key (e.g. "cleanups") → lifecycle of its items
    enums: Mapping[str, frozenset[str]]  # x-resource → the spec's status enum
    problems: tuple[str, ...]  # places where the lifecycle table and the spec disagree

    @classmethod
    def from_spec(cls, doc: Mapping[str, Any]) -> JobModel:
        """Every schema with `x-resource` and `x-status-field` is a job type."""
        schemas = doc.get("components", {}).get("schemas", {})
        jsonapi: dict[str, Lifecycle] = {}
        plain: dict[str, Lifecycle] = {}
        enums: dict[str, frozenset[str]] = {}
        problems: list[str] = []
        for name, schema in schemas.items():
            kind, field_name = schema.get("x-resource"), schema.get("x-status-field")
            if not kind or not field_name:
                continue
            props = schema.get("properties", {})
            attrs = props.get("attributes", {}).get("properties") if "attributes" in props else props
            enum = frozenset((attrs or {}).get(field_name, {}).get("enum") or ())
            enums[kind] = enum
            lc = _from_extension(kind, field_name, schema.get("x-lifecycle")) or BUILTIN.get(kind)
            if lc is None:
                problems.append(f"{name}: no lifecycle is known for x-resource {kind!r}")
                continue
            if enum and enum != lc.statuses:
                problems.append(
                    f"{name}.{field_name}: Received enum {sorted(enum)} / "
                    f"Documented lifecycle {lc.describe()}"
                )
            if "attributes" in props:
                jsonapi[kind] = lc
            else:
                plain[_list_key(doc, name) or kind] = lc
        return cls(jsonapi, plain, enums, tuple(problems))

    def jobs_in(self, path: str, body: Any) -> Iterator[Job]:
        """Every job object a response body carries (single document or list)."""
        if not isinstance(body, Mapping):
            return
        data = body.get("data")
        items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            lc = self.jsonapi.get(str(item.get("type")))
            attrs = item.get("attributes")
            if lc is not None and isinstance(item.get("id"), str) and isinstance(attrs, Mapping):
                yield Job(lc.kind, item["id"], attrs, lc)
        for key, lc in self.plain.items():
            listed = body.get(key)
            if isinstance(listed, list):
                for obj in listed:
                    if isinstance(obj, Mapping) and isinstance(obj.get("id"), str):
                        yield Job(lc.kind, obj["id"], obj, lc)
            elif (lc.status_field in body and isinstance(body.get("id"), str)
                  and f"/{key}" in path):
                yield Job(lc.kind, body["id"], body, lc)


def _list_key(doc: Mapping[str, Any], schema_name: str) -> str | None:
    """The property under which a list schema holds items of `schema_name` (`cleanups`)."""
    ref = f"#/components/schemas/{schema_name}"
    for other in doc.get("components", {}).get("schemas", {}).values():
        for key, prop in (other.get("properties") or {}).items():
            if isinstance(prop, Mapping) and prop.get("type") == "array" \
                    and (prop.get("items") or {}).get("$ref") == ref:
                return str(key)
    return None


def _from_extension(kind: str, field_name: str, ext: Any) -> Lifecycle | None:
    """A lifecycle from a schema's `x-lifecycle` extension, over the built-in one's field rules."""
    if not isinstance(ext, Mapping) or not isinstance(ext.get("stages"), list):
        return None
    stages = [[s] if isinstance(s, str) else list(s) for s in ext["stages"]]
    terminal = frozenset(ext.get("terminal") or stages[-1])
    base = BUILTIN.get(kind)
    rules: dict[str, Any] = {}
    if base is not None:
        rules = {"must_be_set": base.must_be_set, "must_be_null": base.must_be_null,
                 "ordered": base.ordered, "counters": base.counters, "total": base.total,
                 "summed": base.summed, "progress": base.progress}
    return Lifecycle(kind=kind, status_field=field_name, ranks=_ranks(*stages), terminal=terminal,
                     interrupted=str(ext.get("interrupted") or (base.interrupted if base else "")),
                     resumable=frozenset(ext.get("resumable") or ()), **rules)


@lru_cache(maxsize=8)
def load_spec(path: str) -> Mapping[str, Any]:
    """The parsed spec file (cached: every check needs it)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # type: ignore[no-any-return]


_MODELS: dict[int, JobModel] = {}


def model_of(doc: Mapping[str, Any]) -> JobModel:
    """The JobModel of a parsed spec, built once per document object."""
    model = _MODELS.get(id(doc))
    if model is None:
        model = _MODELS[id(doc)] = JobModel.from_spec(doc)
    return model


def default_spec_path() -> Path:
    """The spec shipped inside the mock_server package (same file as the repo's openapi.yaml)."""
    from mock_server.spec.load import PACKAGED_SPEC

    return PACKAGED_SPEC


def dialect(path: str) -> str:
    """Which API a path belongs to: `rackspace` for /v2/..., else `commercelayer`."""
    return "rackspace" if path.startswith("/v2/") or path == "/v2" else "commercelayer"


def media_type(path: str) -> str:
    """The API's own media type for a path (notes: commercelayer_api.md §3, rackspace §8)."""
    return JSON if dialect(path) == "rackspace" else JSONAPI
