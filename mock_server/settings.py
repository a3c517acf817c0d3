"""Frozen Settings: embedded defaults < config file < environment < command-line flags."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration file or value that cannot be used (names the file and the key)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """How long each stage of a job type lasts (virtual seconds)."""

    pending: float = 1.0
    running: float = 2.0  # base running time
    per_item: float = 0.01  # extra running time per record/input
    queued: float = 1.0  # Rackspace only
    stopping: float = 1.0  # Rackspace stop_requested → stopped

    def durations(self, stages: int, items: int) -> tuple[float, ...]:
        """Stage durations for a job of `items` with `stages` stages (last one is work)."""
        run = self.running + self.per_item * items
        middle = (self.queued,) * (stages - 2) if stages > 2 else ()
        return (self.pending, *middle, run)


DEFAULT_TIMINGS: Mapping[str, Timing] = {
    "imports": Timing(),
    "exports": Timing(),
    "cleanups": Timing(),
    "rackspace_cleanups": Timing(pending=1.0, running=5.0, per_item=0.0),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server can be told; the only reader of os.environ."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None  # base for absolute links; default: the request's host
    seed: int = 1
    speed: float = 1.0
    frozen: bool = False  # start with the clock frozen
    start: str | None = None  # ISO-8601 instant the virtual clock starts at (default: now)
    spec_path: str | None = None  # default: the spec shipped in the package
    fixtures: str | None = None  # default: the built-in demo fixture
    limits: bool = True  # job size and concurrency limits (off: --no-limits)
    max_job_size: int = 10_000
    max_active_jobs: int = 10
    journal_size: int = 1000
    max_body: int = 16 * 1024 * 1024  # bytes a request body may have (an import of 10,000 is ~5 MB)
    header_timeout: float = 10.0  # seconds a client may take to send a request's headers
    idle_timeout: float = 75.0  # seconds a kept-alive connection may stay idle
    max_tenants: int = 10_000  # organizations/projects held at once (0: no cap); then 429
    request_log: bool = True  # a line per request on stdout (off: --quiet)
    log_level: str = "info"  # debug, info, warning or error
    log_format: str = "text"  # text, or json: one object per line
    rate_limits: bool = False
    organization: str = "acme"  # org slug for tokens issued by POST /oauth/token
    state: str | None = None  # where state is kept: an SQLite file or postgresql://… (None: memory)
    admin_token: str | None = None  # opens /_mock/ to non-loopback clients sending it as Bearer
    files_key: str | None = None  # signs download links (None: random per server, kept in state)
    timings: Mapping[str, Timing] = field(default_factory=lambda: dict(DEFAULT_TIMINGS))
    extra: Mapping[str, Any] = field(default_factory=dict)  # sections owned by other modules
    config_file: str | None = None  # where the settings were read (named in config errors)

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given (non-None) values replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<config>") -> Settings:
        """Settings from a parsed config mapping; unknown keys are errors naming the key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: the top level must be a mapping")
        known = {f.name for f in fields(cls)} - {"timings", "extra", "config_file"}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).replace("-", "_")
            if name == "timings":
                values["timings"] = _timings(value, source)
            elif name in known:
                values[name] = _typed(name, value, source)
            elif name in EXTRA_SECTIONS:
                extra[name] = value
            else:
                raise ConfigError(unknown_key(source, str(key), known | {"timings"} |
                                              EXTRA_SECTIONS))
        return cls(**values, extra=extra, config_file=source)

    @classmethod
    def from_file(cls, path: str | Path) -> Settings:
        """Settings from a YAML config file."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_mapping(data, str(path))

    @classmethod
    def from_env(cls, base: Settings | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Apply MOCK_SERVER_<NAME> environment variables over `base`."""
        env = os.environ if env is None else env
        base = base or cls()
        known = {f.name for f in fields(cls)} - {"timings", "extra", "config_file"}
        values = {
            name: _typed(name, env[f"MOCK_SERVER_{name.upper()}"], "environment")
            for name in known
            if f"MOCK_SERVER_{name.upper()}" in env
        }
        return replace(base, **values)


def unknown_key(where: str, key: str, known: Iterable[str]) -> str:
    """`where: unknown key 'x'; did you mean 'y'? (known: …)`."""
    names = sorted(known)
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1].replace("-", "_"), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{where}: unknown key {key!r}{hint} (known: {', '.join(names)})"


# Config sections parsed by their own modules (faults, scenarios, rackspace agents, …).
EXTRA_SECTIONS = frozenset({"faults", "scenarios", "rules", "agents", "rate_limit",
                            "webhooks"})

_TYPES: dict[str, type] = {
    "port": int, "seed": int, "speed": float, "max_job_size": int,
    "max_active_jobs": int, "journal_size": int, "max_body": int, "max_tenants": int,
    "header_timeout": float, "idle_timeout": float,
    "frozen": bool, "limits": bool, "rate_limits": bool, "request_log": bool,
}

_POSITIVE = frozenset({"header_timeout", "idle_timeout"})
_COUNTS = frozenset({"max_tenants"})
_CHOICES = {"log_level": ("debug", "info", "warning", "error"), "log_format": ("text", "json")}


def _typed(name: str, value: Any, source: str) -> Any:
    kind = _TYPES.get(name, str)
    if value is None and name in ("public_url", "spec_path", "fixtures", "start", "state",
                                  "admin_token", "files_key"):
        return None
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return value.lower() in ("1", "true", "yes", "on")
        if kind is bool and not isinstance(value, bool):
            raise ValueError(value)
        if name == "start":
            from .timefmt import parse_time

            parse_time(str(value))  # fail early with the key named, not at first request
            return str(value)
        typed = kind(value)
        if name in _CHOICES and typed not in _CHOICES[name]:
            raise ConfigError(f"{source}: {name} must be one of {', '.join(_CHOICES[name])}, "
                              f"got {value!r}")
        if name in _POSITIVE and not 0 < typed < 86_400:
            raise ConfigError(f"{source}: {name} must be seconds between 0 and 86400, "
                              f"got {value!r}")
        if name == "port" and not 0 <= typed <= 65535:
            raise ConfigError(f"{source}: port must be 0-65535 (0 picks a free one), "
                              f"got {value!r}")
        if name in _COUNTS and typed < 0:
            raise ConfigError(f"{source}: {name} must be 0 or more, got {value!r}")
        return typed
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{source}: {name} must be {kind.__name__}, got {value!r}") from None


def _timings(value: Any, source: str) -> dict[str, Timing]:
    out = dict(DEFAULT_TIMINGS)
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: timings must be a mapping of job type → durations")
    for job_type, spec in value.items():
        if job_type not in out:
            raise ConfigError(unknown_key(source, f"timings.{job_type}", out))
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{source}: timings.{job_type} must be a mapping")
        allowed = {f.name for f in fields(Timing)}
        for key, seconds in spec.items():
            if key not in allowed:
                raise ConfigError(unknown_key(source, f"timings.{job_type}.{key}", allowed))
            if not isinstance(seconds, int | float) or seconds < 0:
                raise ConfigError(f"{source}: timings.{job_type}.{key} must be seconds ≥ 0")
        out[job_type] = replace(out[job_type], **{k: float(v) for k, v in spec.items()})
    return out
