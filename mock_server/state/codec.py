"""Stored forms: a job, journal entries and the small server-wide values as JSON bytes, and back.

Every durable backend keeps the same bytes, so a SQLite file and a PostgreSQL database hold the
same thing. Floats round-trip exactly (shortest repr); a plan's held stages (infinite instants)
are written as the strings "inf"/"-inf". No aiohttp, no clock reads.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import orjson

from ..domain.lifecycle import Plan
from ..domain.results import ExportFile, Run
from ..domain.store import Fields, Job, Packed
from ..qa.journal import Entry
from ..scenarios.scenario import Scenario

_PLAN_FIELDS = tuple(f.name for f in dataclass_fields(Plan) if f.init)
_RUN_FIELDS = tuple(f.name for f in dataclass_fields(Run) if f.name != "items")


def _default(value: Any) -> Any:
    if value.__class__ is Packed:
        return orjson.Fragment(value.raw)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"{type(value).__name__} cannot be stored")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (packed values spliced in, bytes as base64)."""
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers beyond 64 bits: the stdlib writes them
        import json

        return json.dumps(_plain(value), separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Packed):
        return value.value()
    if isinstance(value, bytes | bytearray | memoryview):
        return _default(value)
    return value


def loads(raw: bytes | str | memoryview) -> Any:
    """The value of stored JSON."""
    return orjson.loads(bytes(raw) if isinstance(raw, memoryview) else raw)


def _bytes(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "$b64" in value:
        return base64.b64decode(value["$b64"])
    return value


def _num(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)


def _float(x: float | str) -> float:
    return float(x)


# ---- jobs ------------------------------------------------------------------------------------

def plan_doc(plan: Plan) -> dict[str, Any]:
    """A plan as plain values (held stages as "inf")."""
    out: dict[str, Any] = {}
    for name in _PLAN_FIELDS:
        value = getattr(plan, name)
        if isinstance(value, float):
            value = _num(value)
        elif name == "ends":
            value = [_num(v) for v in value]
        elif name == "pauses":
            value = [[_num(a), _num(b)] for a, b in value]
        out[name] = value
    return out


def plan_of(doc: dict[str, Any]) -> Plan:
    """The plan `plan_doc` wrote."""
    values = dict(doc)
    values["ends"] = tuple(_float(v) for v in values["ends"])
    values["pauses"] = tuple((_float(a), _float(b)) for a, b in values.get("pauses", ()))
    for name in ("start", "interrupt_at", "fail_at", "stall_at", "stop_for", "stopped_at"):
        if values.get(name) is not None:
            values[name] = _float(values[name])
    return Plan(**{k: v for k, v in values.items() if k in _PLAN_FIELDS})


def scenario_doc(scenario: Scenario) -> dict[str, Any]:
    """A scenario as its set fields (the admin API's form)."""
    return scenario.as_dict()


def scenario_of(doc: dict[str, Any]) -> Scenario:
    """The scenario `scenario_doc` wrote."""
    values = dict(doc)
    if "durations" in values:
        values["durations"] = tuple((str(k), float(v)) for k, v in values["durations"].items())
    return Scenario(**values)


def job_doc(job: Job, tracked: bool) -> dict[str, Any]:
    """Everything that decides a job's future answers, as one document (schema 2 stored it so);
    `tracked`: its item effects still run."""
    return {**_head(job, tracked), "plan": plan_doc(job.plan), "fields": dict.copy(job.fields)}


def _head(job: Job, tracked: bool) -> dict[str, Any]:
    run = job.run
    return {
        "id": job.id, "kind": job.kind, "created_at": job.created_at,
        "updated_at": job.updated_at, "version": job.version,
        "past": [[s, _num(at)] for s, at in job.past],
        "changes": job.changes,
        "scenario": None if job.scenario is None else scenario_doc(job.scenario),
        "run": None if run is None else {n: getattr(run, n) for n in _RUN_FIELDS},
        "file": None if job.file is None else {"data": job.file.data, "format": job.file.format},
        "marks": sorted(job.marks),
        "tracked": tracked,
    }


# A job is stored in three parts, apart so that a copy reading a job's next version (a replica
# catching up, mostly on an import's progress) decodes only what changed: the head (counts,
# times, version), then its plan and its user fields, which most versions share with the last.
_SEP = b"\x1e"  # never in compact JSON (control characters in strings are escaped)
_KEEP = 4096  # parts kept decoded, per kind; all are dropped when full
_plans: dict[bytes, Plan] = {}  # plans are immutable: shared
_fields: dict[bytes, Fields] = {}  # copied for each job (fields change in place)


def encode_job(job: Job, tracked: bool) -> bytes:
    """A job's stored bytes."""
    return _SEP.join((dumps(_head(job, tracked)), dumps(plan_doc(job.plan)),
                      dumps(dict.copy(job.fields))))


def _part(raw: bytes, cache: dict[bytes, Any], decode: Any) -> Any:
    value = cache.get(raw)
    if value is None:
        if len(cache) >= _KEEP:
            cache.clear()
        value = cache[raw] = decode(loads(raw))
    return value


def decode_job(raw: bytes | str | memoryview) -> tuple[Job, bool]:
    """A stored job, and whether its item effects still run (also a schema-2 row: one
    document)."""
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    if _SEP in data:
        head, plan_raw, fields_raw = data.split(_SEP)
        d = loads(head)
        plan = _part(plan_raw, _plans, plan_of)
        fields = Fields(_part(fields_raw, _fields, Fields.packing))
    else:
        d = loads(data)
        plan, fields = plan_of(d["plan"]), Fields.packing(d["fields"])
    run = d["run"]
    file = d["file"]
    job = Job(
        id=d["id"], kind=d["kind"], created_at=d["created_at"], plan=plan,
        fields=fields, updated_at=d["updated_at"],
        past=tuple((s, _float(at)) for s, at in d["past"]),
        changes=[(at, changed) for at, changed in d["changes"]] if d["changes"] else None,
        version=d["version"],
        scenario=None if d["scenario"] is None else scenario_of(d["scenario"]),
        run=None if run is None else Run(**run),
        file=None if file is None else ExportFile(_bytes(file["data"]), file["format"]),
        marks=frozenset(d["marks"]),
    )
    return job, bool(d.get("tracked"))


def encode_progress(job: Job, tracked: bool) -> bytes:
    """What a change of a job's counts alone (an import's or a cleanup's next items) wrote: its
    version, its run's counts and whether its item effects still run; stored apart from the
    job, so that the next item does not rewrite its inputs."""
    run = job.run
    return dumps([job.version, None if run is None else [run.applied, run.ok, run.errors,
                                                          run.errors_log], tracked])


def apply_progress(job: Job, raw: bytes | memoryview) -> bool | None:
    """Bring `job` to the counts `encode_progress` wrote, if they are newer than its own
    version; returns whether its item effects still run (None: they were older, nothing
    changed)."""
    version, counts, tracked = loads(raw)
    if version <= job.version:
        return None
    job.version = version
    if counts is not None and job.run is not None:
        run = job.run
        run.applied, run.ok, run.errors, run.errors_log = counts
    return bool(tracked)


# ---- the journal -----------------------------------------------------------------------------

def _pairs(headers: Any) -> list[list[str]]:
    items = headers.items() if hasattr(headers, "items") else headers
    return [[str(k), str(v)] for k, v in items]


def encode_entry(e: Entry) -> bytes:
    """A journal entry's stored bytes: headers as pairs, bodies as the text the admin API shows
    (at most BODY_CAP characters: what is kept is what can be seen)."""
    return dumps([e.seq, e.at, e.namespace, e.method, e.path, e.query, e.operation,
                  _pairs(e.raw_request_headers), e.request_body, e.status,
                  _pairs(e.raw_response_headers), e.response_body, e.duration_ms, e.fault])


def decode_entry(raw: bytes | str | memoryview) -> Entry:
    """The journal entry `encode_entry` wrote."""
    (seq, at, ns, method, path, query, op, req_h, req_b, status, resp_h, resp_b, ms,
     fault) = loads(raw)
    return Entry(seq, at, ns, method, path, query, op, tuple(map(tuple, req_h)), _bytes(req_b),
                 status, tuple(map(tuple, resp_h)), _bytes(resp_b), ms, fault)


BLOCK_SIZE = 1000  # journal entries per stored block, at most


@dataclass(frozen=True, slots=True)
class Block:
    """Journal entries of one namespace stored as one row: their encodings one per line,
    compressed (a poll's answer is kilobytes of JSON, and a busy mock answers thousands a second:
    a row and an uncompressed body per entry cost the database more than the request did)."""

    namespace: str
    first: int  # seq of its first and last entry
    last: int
    count: int
    body: bytes


def journal_blocks(entries: Iterable[Entry]) -> list[Block]:
    """Entries (oldest first) as blocks of one namespace each, oldest first within each."""
    by_ns: dict[str, list[Entry]] = {}
    for e in entries:
        by_ns.setdefault(e.namespace, []).append(e)
    out = []
    for ns, group in by_ns.items():
        for i in range(0, len(group), BLOCK_SIZE):
            part = group[i:i + BLOCK_SIZE]
            body = zlib.compress(b"\n".join(map(encode_entry, part)), 1)
            out.append(Block(ns, part[0].seq, part[-1].seq, len(part), body))
    return out


def decode_block(raw: bytes | memoryview) -> list[Entry]:
    """The entries of a block (also a schema-1 row: one entry, not compressed)."""
    data = bytes(raw)
    if data[:1] != b"[":
        data = zlib.decompress(data)
    return [decode_entry(line) for line in data.split(b"\n")]
