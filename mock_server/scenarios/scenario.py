"""Job scenarios: what QA wants to happen to a job, parsed from headers, metadata, config or admin."""

from __future__ import annotations

import fnmatch
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
    base = Scenario()
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
    base = Scenario()
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


# ---- config: presets and rules ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """A config rule: jobs whose type and create attributes match get `scenario`."""

    types: tuple[str, ...]  # empty: every type
    match: tuple[tuple[str, Any], ...]  # (attribute, glob / value / list of alternatives)
    scenario: Scenario
    namespace: str | None = None  # None: every namespace (config rules); else private to it

    def matches(self, kind: str, attrs: Mapping[str, Any], namespace: str | None = None) -> bool:
        """True when the namespace, the job type and every listed attribute match."""
        if self.namespace is not None and self.namespace != namespace:
            return False
        if self.types and kind not in self.types:
            return False
        return all(_value_matches(attrs.get(key), want) for key, want in self.match)


def _value_matches(value: Any, want: Any) -> bool:
    if isinstance(want, list):
        return any(_value_matches(value, w) for w in want)
    if isinstance(want, str) and isinstance(value, str):
        return fnmatch.fnmatchcase(value, want)
    return bool(value == want)


class ScenarioBook:
    """Named presets and matching rules from the config (`scenarios:`, `rules:`)."""

    def __init__(self, presets: Mapping[str, Scenario] | None = None,
                 rules: list[Rule] | None = None) -> None:
        self.presets: dict[str, Scenario] = dict(presets or {})
        self.rules: list[Rule] = list(rules or [])
        self.configured = len(self.rules)  # the first rules come from the config

    @classmethod
    def from_config(cls, extra: Mapping[str, Any], source: str = "<config>") -> ScenarioBook:
        """Parse the `scenarios` and `rules` config sections; errors name the file and key."""
        from ..settings import ConfigError

        book = cls()
        presets = extra.get("scenarios") or {}
        if not isinstance(presets, Mapping):
            raise ConfigError(f"{source}: scenarios must map preset names to scenarios")
        for name, spec in presets.items():
            try:
                book.presets[str(name)] = parse(spec, book.presets)
            except ScenarioError as exc:
                raise ConfigError(f"{source}: scenarios.{name}: {exc}") from None
        rules = extra.get("rules") or []
        if not isinstance(rules, list):
            raise ConfigError(f"{source}: rules must be a list of {{match, scenario}}")
        for i, item in enumerate(rules):
            try:
                book.add_rule(**_rule_args(item))
            except (ScenarioError, TypeError) as exc:
                raise ConfigError(f"{source}: rules[{i}]: {exc}") from None
        book.configured = len(book.rules)
        return book

    def add_rule(self, match: Mapping[str, Any], scenario: Any, namespace: str | None = None
                 ) -> Rule:
        """Add a rule: `match` has `type` (or a list) and attribute globs; returns the rule."""
        wanted = dict(match)
        types = wanted.pop("type", None)
        types = [types] if isinstance(types, str) else list(types or [])
        unknown = [t for t in types if t not in LIFECYCLES]
        if unknown:
            raise ScenarioError(f"match.type: unknown job type {unknown[0]!r}; "
                                f"use one of {', '.join(LIFECYCLES)}", "type")
        rule = Rule(tuple(types), tuple(wanted.items()), parse(scenario, self.presets), namespace)
        self.rules.append(rule)
        return rule

    def state(self) -> list[dict[str, Any]]:
        """The rules added after the config's (what a durable store keeps)."""
        return [{"match": {"type": list(r.types), **dict(r.match)}, "scenario": r.scenario.as_dict(),
                 "namespace": r.namespace} for r in self.rules[self.configured:]]

    def restore(self, state: list[dict[str, Any]]) -> None:
        """Take over kept rules (see `state`) after the config's."""
        del self.rules[self.configured:]
        for kept in state:
            self.add_rule(kept["match"], kept["scenario"], kept.get("namespace"))

    def clear(self, namespace: str | None = None) -> int:
        """Drop one namespace's private rules (or every private rule); config rules stay."""
        before = len(self.rules)
        kept = [r for i, r in enumerate(self.rules) if i < self.configured
                or r.namespace is None or namespace not in (None, r.namespace)]
        self.rules = kept
        return before - len(self.rules)

    def for_job(self, kind: str, attrs: Mapping[str, Any], namespace: str | None = None
                ) -> Scenario:
        """Every matching rule's scenario, merged in order (later rules win)."""
        out = Scenario()
        for rule in self.rules:
            if rule.matches(kind, attrs, namespace):
                out = out.merged(rule.scenario)
        return out


def _rule_args(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping) or set(item) - {"match", "scenario"} or "scenario" not in item:
        raise ScenarioError("each rule is {match: {type: ..., <attribute>: <glob>}, scenario: ...}")
    match = item.get("match") or {}
    if not isinstance(match, Mapping):
        raise ScenarioError("match must be a mapping of attribute → glob")
    return {"match": match, "scenario": item["scenario"]}


def header_value(headers: Mapping[str, str]) -> str | None:
    """The X-Mock-Scenario header, whatever its case."""
    wanted = HEADER.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)
