"""Scenarios from the config: named presets and the rules that give matching jobs a scenario
(`scenarios:` and `rules:`), and the rules QA adds per namespace through the admin API."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.lifecycle import LIFECYCLES
from .scenario import NO_SCENARIO, Scenario, ScenarioError, parse


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
        out = NO_SCENARIO
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


