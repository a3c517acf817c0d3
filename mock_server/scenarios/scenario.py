"""Job scenarios: what QA wants to happen to a job, parsed from headers, metadata, config or admin."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..domain.lifecycle import LIFECYCLES
from ..headers import SCENARIO_HEADER
from ..webhooks.faults import DeliveryFaultError, DeliveryFaults

HEADER = SCENARIO_HEADER
METADATA_KEY = "mock_scenario"  # metadata.mock_scenario: lets unmodified vendor clients opt in

# Every stage name of every lifecycle, plus `running` for the working stage of any type; the
# names valid for one job type are checked when the scenario is applied (fate.py).
STAGE_KEYS = frozenset({s for lc in LIFECYCLES.values() for s in lc.stages} | {"running"})


class ScenarioError(ValueError):
    """A scenario that cannot be understood or applied; `key` names the culprit."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class TooLate(ScenarioError):
    """A scenario that would rewrite what a client may already have seen (409)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A job's planned fate; unset fields (None, empty) leave the default plan alone."""

    fail_at: float | None = None  # progress % at which the job fails
    interrupt_at: float | str | None = None  # progress % or the stage whose start interrupts
    error_rate: float | None = None  # share (0..1) of items that error
    stall: float | None = None  # progress % at which work freezes until released
    outcome: str | None = None  # terminal status when the work ends (completed_with_errors)
    durations: tuple[tuple[str, float], ...] = ()  # (stage name or `running`, seconds)
    fail_message: str | None = None  # export errors_log message (default "query timeout")
    webhooks: str | None = None  # delivery controls of the job's webhook events (JSON object)

    @property
    def empty(self) -> bool:
        """True when this scenario changes nothing."""
        return self == NO_SCENARIO

    def merged(self, other: Scenario) -> Scenario:
        """This scenario with every field `other` sets taken from `other`."""
        changes: dict[str, Any] = {}
        for f in fields(Scenario):
            value = getattr(other, f.name)
            if f.name == "durations":
                if value:
                    changes["durations"] = tuple({**dict(self.durations), **dict(value)}.items())
            elif f.name == "webhooks" and value is not None and self.webhooks is not None:
                changes["webhooks"] = json.dumps({**json.loads(self.webhooks),
                                                  **json.loads(value)}, sort_keys=True)
            elif value is not None:
                changes[f.name] = value
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as the admin API shows them."""
        out: dict[str, Any] = {}
        for f in fields(Scenario):
            value = getattr(self, f.name)
            if f.name == "durations":
                if value:
                    out["durations"] = dict(value)
            elif f.name == "webhooks" and value is not None:
                out["webhooks"] = json.loads(value)
            elif value is not None:
                out[f.name] = value
        return out


NO_SCENARIO = Scenario()  # the scenario of a job without one (frozen: one instance serves all)


# ---- parsing ---------------------------------------------------------------------------------

_FIELDS = frozenset(f.name for f in fields(Scenario))
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ScenarioError(f"{key} must be a number, got {value!r}", key)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    raise ScenarioError(f"{key} must be a number, got {value!r}", key)


def _percent(key: str, value: Any) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    p = _number(key, value)
    if not 0 <= p <= 100:
        raise ScenarioError(f"{key} is a progress percentage between 0 and 100, got {value!r}", key)
    return p


def _share(key: str, value: Any) -> float:
    if isinstance(value, str) and value.strip().endswith("%"):
        return _percent(key, value) / 100
    share = _number(key, value)
    if not 0 <= share <= 1:
        raise ScenarioError(f"{key} is a share between 0 and 1 (or 'N%'), got {value!r}", key)
    return share


def _flag_or_percent(key: str, value: Any) -> float | None:
    if value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "on")):
        return 0.0  # stall as soon as the work starts
    if value is False or (isinstance(value, str) and value.lower() in ("false", "no", "off")):
        return None
    return _percent(key, value)


def _stage_or_percent(key: str, value: Any) -> float | str:
    if isinstance(value, str) and value.strip() in STAGE_KEYS:
        return value.strip()
    try:
        return _percent(key, value)
    except ScenarioError:
        names = ", ".join(sorted(STAGE_KEYS))
        raise ScenarioError(
            f"{key} must be a progress percentage (0-100) or a stage name ({names}), "
            f"got {value!r}", key,
        ) from None


MAX_STAGE = 10 * 365 * 86_400.0  # seconds a stage may last: every plan ends in a year we render


def _seconds(key: str, value: Any) -> float:
    seconds = _number(key, value)
    if not 0 <= seconds <= MAX_STAGE:
        raise ScenarioError(f"{key} must be seconds from 0 to {MAX_STAGE:.0f} (ten years), "
                            f"got {value!r}", key)
    return seconds


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{key} must be a non-empty string, got {value!r}", key)
    return value.strip()


def _parse_mapping(data: Mapping[str, Any], presets: Mapping[str, Scenario]) -> Scenario:
    base = NO_SCENARIO
    values: dict[str, Any] = {}
    durations: dict[str, float] = {}
    controls: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).strip()
        if key in ("preset", "use"):
            base = base.merged(_preset(_text(key, value), presets))
        elif key == "spec":  # the header form inside an object: {"spec": "fail_at=50"}
            base = base.merged(_parse_text(_text(key, value), presets))
        elif key == "fail_at":
            values[key] = _percent(key, value)
        elif key == "interrupt_at":
            values[key] = _stage_or_percent(key, value)
        elif key == "error_rate":
            values[key] = _share(key, value)
        elif key == "stall":
            values[key] = _flag_or_percent(key, value)
        elif key in ("outcome", "fail_message"):
            values[key] = _text(key, value)
        elif key == "durations":
            if not isinstance(value, Mapping):
                raise ScenarioError("durations must map stage names to seconds", key)
            for stage, seconds in value.items():
                durations[_stage(f"durations.{stage}", stage)] = _seconds(
                    f"durations.{stage}", seconds)
        elif key in STAGE_KEYS:  # `pending=5;running=60` in the header form
            durations[key] = _seconds(key, value)
        elif key == "webhooks":
            controls.update(_controls(key, value))
        elif key.startswith("webhooks."):  # `webhooks.delay=30` in the header form
            controls[key.partition(".")[2]] = _plain(value)
        else:
            known = ", ".join(sorted(_FIELDS | {"preset", "spec"}))
            raise ScenarioError(f"unknown scenario key {key!r}; known: {known} and stage names", key)
    if controls:
        values["webhooks"] = _webhooks(controls)
    return base.merged(Scenario(durations=tuple(durations.items()), **values))


def _controls(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{key} must be an object of delivery controls, e.g. "
                            f'{{"delay": 30}}, got {value!r}', key)
    return dict(value)


def _plain(value: Any) -> Any:
    """A header-form value as the delivery controls take it: `30` a number, `true` a flag."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "yes", "on"):
        return True
    if text.lower() in ("false", "no", "off"):
        return False
    return float(text) if _NUMBER.match(text) else text


def _webhooks(controls: dict[str, Any]) -> str:
    """The controls, checked as a webhook's metadata.mock_delivery is, as canonical JSON."""
    try:
        DeliveryFaults.parse(controls)
    except DeliveryFaultError as exc:
        key = f"webhooks.{exc.key}" if exc.key else "webhooks"
        raise ScenarioError(f"{key}: {exc}", key) from None
    return json.dumps(controls, sort_keys=True)


def _stage(key: str, name: Any) -> str:
    if name not in STAGE_KEYS:
        raise ScenarioError(f"{key}: unknown stage; use one of {', '.join(sorted(STAGE_KEYS))}", key)
    return str(name)


def _preset(name: str, presets: Mapping[str, Scenario]) -> Scenario:
    if name not in presets:
        known = ", ".join(sorted(presets)) or "none configured"
        raise ScenarioError(f"unknown scenario preset {name!r} (presets: {known})", name)
    return presets[name]


def _parse_text(text: str, presets: Mapping[str, Scenario]) -> Scenario:
    stripped = text.strip()
    if stripped.startswith("{"):  # JSON in a header or a metadata string
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise ScenarioError(f"scenario JSON is malformed: {exc}") from None
        return parse(data, presets)
    base = NO_SCENARIO
    pairs: dict[str, str] = {}
    for part in re.split(r"[;&]", stripped):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        if eq:
            pairs[key.strip()] = value.strip()
        elif part == "stall":
            pairs["stall"] = "true"
        else:
            base = base.merged(_preset(part, presets))
    return base.merged(_parse_mapping(pairs, presets))


def parse(value: Any, presets: Mapping[str, Scenario] | None = None) -> Scenario:
    """A Scenario from `fail_at=50;interrupt_at=30`, a preset name, JSON text or a mapping."""
    presets = presets or {}
    if isinstance(value, Scenario):
        return value
    if isinstance(value, str):
        return _parse_text(value, presets)
    if isinstance(value, Mapping):
        return _parse_mapping(value, presets)
    raise ScenarioError(
        f"a scenario is a string like 'fail_at=50;interrupt_at=30' or an object, got {value!r}")


def header_value(headers: Mapping[str, str]) -> str | None:
    """The X-Mock-Scenario header, whatever its case."""
    wanted = HEADER.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)
