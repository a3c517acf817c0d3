"""Commerce Layer rate limits as sliding windows on the virtual clock. No aiohttp."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# notes: commercelayer_api.md §3 "Rate limits" — /oauth/token 30 per minute; /api/* average per
# class per minute (summed over endpoints) and burst per endpoint per 10 s; test mode half.
CACHEABLE, UNCACHEABLE = "cacheable", "uncacheable"


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` requests in any `interval` seconds."""

    limit: int
    interval: float


@dataclass(frozen=True, slots=True)
class Limits:
    """The vendor's numbers for live mode; test mode gets `test_factor` of each."""

    oauth: Window = Window(30, 60.0)
    average: Mapping[str, Window] = field(default_factory=lambda: {
        CACHEABLE: Window(1000, 60.0), UNCACHEABLE: Window(200, 60.0)})
    burst: Mapping[str, Window] = field(default_factory=lambda: {
        CACHEABLE: Window(250, 10.0), UNCACHEABLE: Window(50, 10.0)})
    test_factor: float = 0.5

    @classmethod
    def from_config(cls, section: Any, source: str = "<config>") -> Limits:
        """The `rate_limit:` config section over the vendor defaults; errors name the key."""
        from ..settings import ConfigError, unknown_key

        base = cls()
        if section in (None, {}):
            return base
        if not isinstance(section, Mapping):
            raise ConfigError(f"{source}: rate_limit must be a mapping")
        out: dict[str, Any] = {}
        for key, value in section.items():
            where = f"{source}: rate_limit.{key}"
            if key == "test_factor":
                if not isinstance(value, int | float) or not 0 < value <= 1:
                    raise ConfigError(f"{where} must be a number in (0, 1]")
                out[key] = float(value)
            elif key == "oauth":
                out[key] = _window(value, base.oauth, where)
            elif key in ("average", "burst"):
                if not isinstance(value, Mapping):
                    raise ConfigError(f"{where} must map cacheable/uncacheable to limits")
                current = dict(getattr(base, key))
                for cls_name, spec in value.items():
                    if cls_name not in current:
                        raise ConfigError(f"{where}.{cls_name}: use cacheable or uncacheable")
                    current[cls_name] = _window(spec, current[cls_name], f"{where}.{cls_name}")
                out[key] = current
            else:
                raise ConfigError(unknown_key(where, str(key),
                                              ("oauth", "average", "burst", "test_factor")))
        return replace(base, **out)


def _window(value: Any, base: Window, where: str) -> Window:
    from ..settings import ConfigError

    if isinstance(value, int) and not isinstance(value, bool):
        value = {"limit": value}
    if not isinstance(value, Mapping) or set(value) - {"limit", "interval"}:
        raise ConfigError(f"{where} must be a number or {{limit, interval}}")
    limit = value.get("limit", base.limit)
    interval = value.get("interval", base.interval)
    if not isinstance(limit, int) or limit < 1 or not isinstance(interval, int | float) \
            or interval <= 0:
        raise ConfigError(f"{where}: limit must be an integer >= 1 and interval seconds > 0")
    return Window(limit, float(interval))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one request: allowed or not, and the tightest window's numbers."""

    allowed: bool
    limit: int
    interval: float
    remaining: int
    retry_after: float = 0.0  # seconds until a slot frees up (when refused)

    def headers(self) -> dict[str, str]:
        """The X-Ratelimit-* headers the SDK reads (no Reset: the windows slide)."""
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Interval": f"{self.interval:g}",
            "X-Ratelimit-Remaining": str(self.remaining),
        }


class SlidingLog:
    """Instants of accepted requests within the last window (at most `limit` kept)."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def used(self, now: float, interval: float) -> int:
        """Requests counted in (now - interval, now]."""
        while self.times and self.times[0] <= now - interval:
            self.times.popleft()
        return len(self.times)


def check_windows(logs: list[tuple[SlidingLog, Window]], now: float) -> Verdict:
    """Admit a request if every window has room (then count it); report the tightest window."""
    worst: Verdict | None = None
    for log, window in logs:
        used = log.used(now, window.interval)
        if used >= window.limit:
            wait = log.times[0] + window.interval - now if log.times else window.interval
            return Verdict(False, window.limit, window.interval, 0, max(0.0, wait))
    for log, window in logs:
        log.times.append(now)
        remaining = window.limit - len(log.times)
        if worst is None or remaining < worst.remaining:
            worst = Verdict(True, window.limit, window.interval, remaining)
    assert worst is not None
    return worst


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


class RateLimiter:
    """The vendor's limits per (namespace, organization, mode); off unless enabled."""

    def __init__(self, limits: Limits | None = None, enabled: bool = False) -> None:
        self.limits = limits or Limits()
        self.enabled = enabled
        self._logs: dict[tuple[str, ...], SlidingLog] = {}
        self._lock = threading.Lock()
        # Replicas count in one shared place instead (state/shared.py): (plan, now) → verdict.
        self.shared: Callable[[list[tuple[tuple[str, ...], Window]], float],
                              Awaitable[Verdict]] | None = None

    def enable(self, on: bool = True) -> None:
        """Switch the vendor limits on or off (windows restart empty)."""
        with self._lock:
            self.enabled = on
            self._logs.clear()

    def reset(self, namespace: str | None = None) -> None:
        """Forget the counts of one namespace, or all."""
        with self._lock:
            for key in [k for k in self._logs if namespace is None or k[0] == namespace]:
                del self._logs[key]

    def state(self) -> dict[str, Any]:
        """The switch and the counts in each window (what a durable store keeps)."""
        with self._lock:
            return {"enabled": self.enabled,
                    "logs": [[list(k), list(log.times)] for k, log in self._logs.items() if log.times]}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take over a kept switch and counts (see `state`)."""
        with self._lock:
            self.enabled = bool(state["enabled"])
            self._logs = {}
            for key, times in state.get("logs", ()):
                log = self._logs[tuple(key)] = SlidingLog()
                log.times.extend(times)

    def _scaled(self, window: Window, mode: str) -> Window:
        if mode == "live":
            return window
        return Window(max(1, int(window.limit * self.limits.test_factor)), window.interval)

    def check(self, namespace: str, path: str, method: str, endpoint: str,
              org: str | None, mode: str, client: str, now: float) -> Verdict | None:
        """The verdict for one request, or None when no vendor limit covers it."""
        plan = self.plan(namespace, path, method, endpoint, org, mode, client)
        if plan is None:
            return None
        with self._lock:
            logs = [(self._logs.setdefault(key, SlidingLog()), window) for key, window in plan]
            return check_windows(logs, now)

    def plan(self, namespace: str, path: str, method: str, endpoint: str,
             org: str | None, mode: str, client: str) -> list[tuple[tuple[str, ...], Window]] | None:
        """The windows (key, limit) one request counts in, or None when no limit covers it."""
        if not self.enabled:
            return None
        plan: list[tuple[tuple[str, ...], Window]]
        if path == "/oauth/token":
            # notes: commercelayer_api.md §3 — per IP in the vendor's docs; here per namespace+IP
            plan = [((namespace, "oauth", client), self.limits.oauth)]
        elif path.startswith("/api/") and org is not None:
            kind = CACHEABLE if method in ("GET", "HEAD") else UNCACHEABLE
            # Per organization and mode (the choice; the vendor counts per IP).
            who = (namespace, org, mode)
            plan = [
                ((*who, "average", kind), self._scaled(self.limits.average[kind], mode)),
                ((*who, "burst", kind, endpoint), self._scaled(self.limits.burst[kind], mode)),
            ]
        else:
            return None  # notes: rackspace_cleanups.md §8 Limits — nothing applies to cleanups
        return plan

    def as_dict(self) -> dict[str, Any]:
        """State and numbers, as the admin API shows them."""
        lim = self.limits

        def win(w: Window) -> dict[str, Any]:
            return {"limit": w.limit, "interval": w.interval}

        return {
            "enabled": self.enabled,
            "test_factor": lim.test_factor,
            "oauth": win(lim.oauth),
            "average": {k: win(w) for k, w in lim.average.items()},
            "burst": {k: win(w) for k, w in lim.burst.items()},
        }
