"""Fault rules (latency, errors, broken connections, custom limits), seeded per rule. No aiohttp."""

from __future__ import annotations

import fnmatch
import json
import math
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .ratelimit import SlidingLog, Verdict, Window, check_windows

LATENCY_KINDS = ("fixed", "uniform", "lognormal")
CONNECTION_KINDS = ("reset", "empty", "truncated", "delay_then_close")


class FaultError(ValueError):
    """A fault rule that cannot be used; `key` names the culprit."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class Latency:
    """Real seconds added to a response: fixed, uniform(min, max) or lognormal(median, sigma)."""

    kind: str
    seconds: float = 0.0  # fixed
    min: float = 0.0
    max: float = 0.0
    median: float = 0.0
    sigma: float = 0.0

    def sample(self, rng: random.Random) -> float:
        """One delay drawn from this distribution."""
        if self.kind == "uniform":
            return rng.uniform(self.min, self.max)
        if self.kind == "lognormal":
            return rng.lognormvariate(math.log(self.median), self.sigma)
        return self.seconds


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Which requests (path glob, methods, namespace) get which fault, how often, how many times."""

    path: str = "*"
    methods: tuple[str, ...] = ()  # empty: any method
    namespace: str | None = None  # None: every namespace
    latency: Latency | None = None
    status: int | None = None  # error injection: 500, 502, 503 …
    retry_after: float | None = None  # seconds (default 1 on 429/503)
    message: str | None = None  # error detail
    connection: str | None = None  # reset | empty | truncated | delay_then_close
    delay: float = 0.0  # delay_then_close: seconds before closing
    processed: bool = False  # break the connection after the handler ran (the job exists)
    limit: Window | None = None  # custom rate limit: requests per interval → 429
    per_endpoint: bool = False  # count the limit per method + route instead of per namespace
    probability: float = 1.0
    times: int | None = None  # stop after firing this many times
    seed: int | None = None
    name: str | None = None
    id: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from the admin body / config item; FaultError names the bad key."""
        return _rule(data)

    def as_dict(self) -> dict[str, Any]:
        """The rule as the admin API shows it (unset fields left out)."""
        out: dict[str, Any] = {"id": self.id}
        defaults = FaultRule()
        for f in fields(FaultRule):
            value = getattr(self, f.name)
            if f.name == "id" or value == getattr(defaults, f.name):
                continue
            if f.name == "latency" and value is not None:
                value = {k: v for k, v in _latency_dict(value).items()}
            elif f.name == "limit" and value is not None:
                value = {"requests": value.limit, "interval": value.interval}
            elif f.name == "methods":
                value = list(value)
            out[f.name] = value
        out.setdefault("path", self.path)
        return out

    def matches(self, namespace: str, method: str, path: str) -> bool:
        """True when this rule covers the request."""
        if self.namespace is not None and self.namespace != namespace:
            return False
        if self.methods and method not in self.methods:
            return False
        return fnmatch.fnmatchcase(path, self.path)


def _latency_dict(lat: Latency) -> dict[str, Any]:
    if lat.kind == "uniform":
        return {"kind": "uniform", "min": lat.min, "max": lat.max}
    if lat.kind == "lognormal":
        return {"kind": "lognormal", "median": lat.median, "sigma": lat.sigma}
    return {"kind": "fixed", "seconds": lat.seconds}


def _num(data: Mapping[str, Any], key: str, where: str, low: float = 0.0) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise FaultError(f"{where}.{key} must be a number >= {low:g}", f"{where}.{key}")
    return float(value)


def _latency(value: Any) -> Latency:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = {"kind": "fixed", "seconds": value}
    if not isinstance(value, Mapping) or value.get("kind") not in LATENCY_KINDS:
        raise FaultError("latency is seconds or {kind: fixed|uniform|lognormal, ...}", "latency")
    kind = value["kind"]
    allowed = {"fixed": {"seconds"}, "uniform": {"min", "max"},
               "lognormal": {"median", "sigma"}}[kind]
    extra = set(value) - allowed - {"kind"}
    if extra:
        raise FaultError(f"latency {kind} takes {sorted(allowed)}, not {sorted(extra)}", "latency")
    if kind == "fixed":
        return Latency(kind, seconds=_num(value, "seconds", "latency"))
    if kind == "uniform":
        low, high = _num(value, "min", "latency"), _num(value, "max", "latency")
        if high < low:
            raise FaultError("latency.max must be >= latency.min", "latency.max")
        return Latency(kind, min=low, max=high)
    return Latency(kind, median=_num(value, "median", "latency", 1e-9),
                   sigma=_num(value, "sigma", "latency"))


_KEYS = {"path", "method", "methods", "namespace", "latency", "error", "status", "retry_after",
         "message", "connection", "delay", "processed", "limit", "per", "probability", "times",
         "seed", "name"}


def _rule(data: Mapping[str, Any]) -> FaultRule:
    if not isinstance(data, Mapping):
        raise FaultError("a fault rule is a mapping", "")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise FaultError(f"unknown fault key {unknown[0]!r}; known: {', '.join(sorted(_KEYS))}",
                         unknown[0])
    values: dict[str, Any] = {}
    if "path" in data:
        if not isinstance(data["path"], str) or not data["path"].startswith(("/", "*")):
            raise FaultError("path is a glob over the request path, e.g. /api/exports*", "path")
        values["path"] = data["path"]
    methods = data.get("methods", data.get("method"))
    if methods is not None:
        methods = [methods] if isinstance(methods, str) else methods
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise FaultError("method is an HTTP method or a list of them", "method")
        values["methods"] = tuple(m.upper() for m in methods)
    for key in ("namespace", "name", "message"):
        if data.get(key) is not None:
            if not isinstance(data[key], str) or not data[key]:
                raise FaultError(f"{key} must be a non-empty string", key)
            values[key] = data[key]
    if data.get("latency") is not None:
        values["latency"] = _latency(data["latency"])
    error = data.get("error")
    if error is not None:  # {"error": {"status": 503, "retry_after": 5}} or the flat keys
        if not isinstance(error, Mapping) or set(error) - {"status", "retry_after", "message"}:
            raise FaultError("error is {status, retry_after?, message?}", "error")
        data = {**data, **error}
    if data.get("status") is not None:
        status = data["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise FaultError("status must be an HTTP error status (400-599)", "status")
        values["status"] = status
    if data.get("retry_after") is not None:
        values["retry_after"] = _num(data, "retry_after", "fault")
    if data.get("connection") is not None:
        if data["connection"] not in CONNECTION_KINDS:
            raise FaultError(f"connection must be one of {', '.join(CONNECTION_KINDS)}",
                             "connection")
        values["connection"] = data["connection"]
    if data.get("delay") is not None:
        values["delay"] = _num(data, "delay", "fault")
    if data.get("processed") is not None:
        values["processed"] = bool(data["processed"])
    if data.get("limit") is not None:
        values["limit"] = _limit(data["limit"])
    if data.get("per") is not None:
        if data["per"] not in ("namespace", "endpoint"):
            raise FaultError("per must be namespace or endpoint", "per")
        values["per_endpoint"] = data["per"] == "endpoint"
    if data.get("probability") is not None:
        p = _num(data, "probability", "fault")
        if p > 1:
            raise FaultError("probability must be between 0 and 1", "probability")
        values["probability"] = p
    for key in ("times", "seed"):
        if data.get(key) is not None:
            if isinstance(data[key], bool) or not isinstance(data[key], int) or data[key] < 0:
                raise FaultError(f"{key} must be an integer >= 0", key)
            values[key] = data[key]
    rule = FaultRule(**values)
    kinds = [k for k in ("status", "connection", "limit") if getattr(rule, k) is not None]
    if len(kinds) > 1:
        raise FaultError(f"a rule injects one thing; split {' and '.join(kinds)} into two rules",
                         kinds[1])
    if not kinds and rule.latency is None:
        raise FaultError("a rule needs latency, status (error), connection or limit", "")
    return rule


def _limit(value: Any) -> Window:
    if not isinstance(value, Mapping) or set(value) != {"requests", "interval"}:
        raise FaultError("limit is {requests, interval}", "limit")
    n, interval = value["requests"], value["interval"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise FaultError("limit.requests must be an integer >= 1", "limit.requests")
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise FaultError("limit.interval must be seconds > 0", "limit.interval")
    return Window(n, float(interval))


@dataclass(slots=True)
class _Armed:
    """A rule with its own random stream and counters."""

    rule: FaultRule
    rng: random.Random
    hits: int = 0
    logs: dict[tuple[str, ...], SlidingLog] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do to one request."""

    delay: float = 0.0
    rule: FaultRule | None = None  # the rule whose error/connection/limit applies
    verdict: Verdict | None = None  # a custom limit's numbers
    notes: tuple[str, ...] = ()


class FaultSet:
    """The active fault rules (config rules first), in order; thread-safe."""

    def __init__(self, seed: int, configured: tuple[FaultRule, ...] = ()) -> None:
        self.seed = seed
        self.configured = configured
        self._rules: list[_Armed] = []
        self._next = 1
        self._lock = threading.Lock()
        self.clear()

    @classmethod
    def from_config(cls, seed: int, items: Any, source: str = "<config>") -> FaultSet:
        """Rules from the `faults:` config section; errors name the file and key."""
        from ..settings import ConfigError

        if items in (None, []):
            return cls(seed)
        if not isinstance(items, list):
            raise ConfigError(f"{source}: faults must be a list of rules")
        rules = []
        for i, item in enumerate(items):
            try:
                rules.append(_rule(item))
            except FaultError as exc:
                raise ConfigError(f"{source}: faults[{i}].{exc.key}: {exc}") from None
        return cls(seed, tuple(rules))

    def _arm(self, rule: FaultRule) -> FaultRule:
        rule = replace(rule, id=f"f{self._next}")
        self._next += 1
        self._rules.append(self._armed(rule))
        return rule

    def _armed(self, rule: FaultRule, hits: int = 0) -> _Armed:
        spec = json.dumps({**rule.as_dict(), "id": None, "namespace": None}, sort_keys=True)
        key = f"rule-seed:{rule.seed}" if rule.seed is not None else f"{self.seed}:{spec}"
        return _Armed(rule, random.Random(key), hits)

    def state(self) -> dict[str, Any]:
        """Every rule with its id and hits, and the next id (what a durable store keeps)."""
        with self._lock:
            return {"next": self._next, "rules": [{**a.rule.as_dict(), "hits": a.hits}
                                                  for a in self._rules]}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take over kept rules (see `state`); each rule's random stream starts again."""
        with self._lock:
            armed = []
            for kept in state["rules"]:
                given = {k: v for k, v in kept.items() if k not in ("id", "hits", "namespace")}
                rule = replace(_rule(given), id=kept["id"], namespace=kept.get("namespace"))
                armed.append(self._armed(rule, kept.get("hits", 0)))
            self._rules, self._next = armed, int(state["next"])

    def add(self, rule: FaultRule | Mapping[str, Any], namespace: str | None = None) -> FaultRule:
        """Add a rule (a FaultRule or its admin-body mapping); `namespace` makes it private."""
        if not isinstance(rule, FaultRule):
            rule = _rule(rule)
        if namespace is not None:
            rule = replace(rule, namespace=namespace)
        with self._lock:
            return self._arm(rule)

    @property
    def armed(self) -> bool:
        """True while any rule is armed (no rule: requests skip the fault machinery)."""
        return bool(self._rules)

    def remove(self, rule_id: str) -> bool:
        """Remove one rule by id; False when there was none."""
        with self._lock:
            before = len(self._rules)
            self._rules = [a for a in self._rules if a.rule.id != rule_id]
            return len(self._rules) < before

    def clear(self, namespace: str | None = None) -> int:
        """Drop one namespace's rules, or every rule and re-arm the configured ones."""
        with self._lock:
            before = len(self._rules)
            if namespace is not None:
                self._rules = [a for a in self._rules if a.rule.namespace != namespace]
                return before - len(self._rules)
            self._rules, self._next = [], 1
            for rule in self.configured:
                self._arm(rule)
            return before

    def list(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Rules that apply to `namespace` (all when None), with how often each fired."""
        with self._lock:
            return [{**a.rule.as_dict(), "hits": a.hits} for a in self._rules
                    if namespace is None or a.rule.namespace in (None, namespace)]

    def get(self, rule_id: str) -> dict[str, Any] | None:
        """One rule as listed, or None."""
        return next((r for r in self.list() if r["id"] == rule_id), None)

    def decide(self, namespace: str, method: str, path: str, endpoint: str,
               now: float) -> Decision:
        """Draw what happens to one request, rule by rule in order; the first action wins."""
        delay, notes = 0.0, []
        with self._lock:
            for armed in self._rules:
                rule = armed.rule
                if not rule.matches(namespace, method, path):
                    continue
                if rule.times is not None and armed.hits >= rule.times:
                    continue
                if rule.limit is not None:
                    key = (namespace, endpoint) if rule.per_endpoint else (namespace,)
                    log = armed.logs.setdefault(key, SlidingLog())
                    verdict = check_windows([(log, rule.limit)], now)
                    if not verdict.allowed:
                        armed.hits += 1
                        notes.append(f"{rule.id}:limit")
                        return Decision(delay, rule, verdict, tuple(notes))
                    continue
                if armed.rng.random() >= rule.probability:
                    continue
                armed.hits += 1
                if rule.latency is not None:
                    seconds = rule.latency.sample(armed.rng)
                    delay += seconds
                    notes.append(f"{rule.id}:latency={seconds:.6f}")
                if rule.status is not None:
                    notes.append(f"{rule.id}:status={rule.status}")
                    return Decision(delay, rule, None, tuple(notes))
                if rule.connection is not None:
                    notes.append(f"{rule.id}:{rule.connection}")
                    return Decision(delay, rule, None, tuple(notes))
        return Decision(delay, None, None, tuple(notes))
