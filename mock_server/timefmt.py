"""Timestamp formats of the two vendors, and durations as the admin API and config take them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1024)  # a job's instants repeat on every poll
def cl_time(ts: float | None) -> str | None:
    """Commerce Layer: ISO-8601 UTC with milliseconds, e.g. 2026-01-01T12:00:00.000Z."""
    return None if ts is None else cl_instant(ts)


def cl_instant(ts: float) -> str:
    """cl_time of an instant seen once (an import item's): not kept in cl_time's cache."""
    # As datetime.fromtimestamp splits it (microseconds rounded half to even), then the second
    # formatted once (strftime is 2.5 µs; every item an import processes has its own instant)
    frac, whole = math.modf(ts)
    micros = round(frac * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return f"{_second(int(whole))}.{micros // 1000:03d}Z"


@lru_cache(maxsize=4096)
def _second(whole: int) -> str:
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


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


_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> float:
    """Seconds from a number, a numeric string or an ISO-8601 duration (PT1H30M, P1D, PT0.5S)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.strip().upper())) \
            and value.strip().upper() not in ("P", "PT"):
        seconds = sum(float(v) * _UNIT[k] for k, v in m.groupdict().items() if v)
    else:
        raise ValueError(f"{value!r} is neither seconds nor an ISO-8601 duration like PT1H30M "
                         "(years and months are ambiguous and not accepted)")
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration must be finite and >= 0")
    return seconds
