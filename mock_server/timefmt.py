"""Timestamp formats of the two vendors."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=1024)  # a job's instants repeat on every poll; formatting is 2.5 µs a call
def cl_time(ts: float | None) -> str | None:
    """Commerce Layer: ISO-8601 UTC with milliseconds, e.g. 2026-01-01T12:00:00.000Z."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rs_time(ts: float | None) -> str | None:
    """Rackspace: ISO-8601 UTC with microseconds, e.g. 2014-10-10T19:05:44.632393Z."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """ISO-8601 (with Z or an offset; naive means UTC) → POSIX seconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
