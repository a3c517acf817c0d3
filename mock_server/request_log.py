"""The request log of `mock-server serve`: a line per request the journal records (the vendor
APIs; the admin API is left out), as text or JSON, on standard output."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

from .headers import SCENARIO_HEADER
from .qa.journal import Entry, Journal
from .timefmt import cl_time

log = logging.getLogger("mock_server.requests")


def _scenario(entry: Entry) -> str | None:
    headers = entry.raw_request_headers
    get = getattr(headers, "get", None)
    if get is not None:
        found = get(SCENARIO_HEADER)
        return str(found) if found is not None else None
    return next((str(v) for k, v in headers if str(k).lower() == SCENARIO_HEADER.lower()), None)


def as_text(entry: Entry) -> str:
    """`GET /api/imports/X 200 1.2 ms default getImport scenario=stall`."""
    target = f"{entry.path}?{entry.query}" if entry.query else entry.path
    status = entry.status if entry.status is not None else "---"
    words = [entry.method, target, str(status), f"{entry.duration_ms:.1f} ms", entry.namespace,
             entry.operation or "-"]
    if entry.fault:
        words.append(f"fault={entry.fault}")
    scenario = _scenario(entry)
    if scenario:
        words.append(f"scenario={scenario}")
    return " ".join(words)


def as_json(entry: Entry) -> str:
    """The same as one JSON object (virtual time of the request in `at`)."""
    doc: dict[str, Any] = {"at": cl_time(entry.at), "method": entry.method, "path": entry.path,
                           "query": entry.query, "status": entry.status,
                           "ms": round(entry.duration_ms, 3), "namespace": entry.namespace,
                           "operation": entry.operation, "fault": entry.fault,
                           "scenario": _scenario(entry)}
    return orjson.dumps(doc).decode()


class JsonLines(logging.Formatter):
    """Every log record as one JSON object (a request line already is one)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == log.name:
            return record.getMessage()
        return orjson.dumps({"level": record.levelname.lower(), "logger": record.name,
                             "message": record.getMessage()}).decode()


def install(journal: Journal, *, enabled: bool, level: str, fmt: str) -> None:
    """Log to standard output at `level` (the mock's own messages too); a line per request
    unless not `enabled`."""
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("mock_server")
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    if not enabled or not log.isEnabledFor(logging.INFO):
        return
    render = as_json if fmt == "json" else as_text

    def listener(entry: Entry) -> None:
        log.info(render(entry))

    journal.listeners = (*journal.listeners, listener)
