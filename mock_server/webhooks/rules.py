"""Delivery controls by rule: which deliveries (topic glob, callback URL glob, namespace) are
delayed, dropped, duplicated, badly signed or counted as failed.

    webhooks:
      rules:
        - {topic: "imports.*", delay: {min: 0, max: 60}}      # out of order
        - {callback_url: "http://localhost:9000/*", fail: true}
    POST /_mock/webhooks/rules {"namespace": "ci-42", "topic": "exports.complete", "drop": 1}

A webhook's own `metadata.mock_delivery` wins; otherwise the first rule that matches, in the
order they were added (the config's first). The controls are those of faults.py.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..settings import ConfigError
from .faults import KNOWN, DeliveryFaultError, DeliveryFaults

MATCH = ("name", "topic", "callback_url", "namespace")


@dataclass(frozen=True, slots=True)
class DeliveryRule:
    """Which deliveries get which controls."""

    given: Mapping[str, Any]  # the controls as written (listed back as they were given)
    controls: DeliveryFaults
    topic: str = "*"
    callback_url: str = "*"
    namespace: str | None = None  # None: every namespace
    name: str | None = None
    id: str = ""

    @classmethod
    def parse(cls, data: Any, namespace: str | None = None) -> DeliveryRule:
        """A rule from its config or admin form; DeliveryFaultError names the member at fault."""
        if not isinstance(data, Mapping):
            raise DeliveryFaultError("", "a rule must be an object, e.g. "
                                         "{\"topic\": \"imports.*\", \"delay\": 30}")
        given = {k: v for k, v in data.items() if k not in MATCH}
        if not given:
            raise DeliveryFaultError("", f"a rule needs at least one control "
                                         f"({', '.join(KNOWN)})")
        for key in ("name", "topic", "callback_url", "namespace"):
            value = data.get(key)
            if value is not None and (not isinstance(value, str) or not value):
                raise DeliveryFaultError(key, "must be a non-empty text")
        return cls(given=given, controls=DeliveryFaults.parse(given),
                   topic=data.get("topic") or "*", callback_url=data.get("callback_url") or "*",
                   namespace=namespace or data.get("namespace"), name=data.get("name"))

    def matches(self, namespace: str, topic: str, url: str) -> bool:
        return (self.namespace in (None, namespace) and fnmatch.fnmatchcase(topic, self.topic)
                and fnmatch.fnmatchcase(url, self.callback_url))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "topic": self.topic,
                               "callback_url": self.callback_url}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        if self.name is not None:
            out["name"] = self.name
        return {**out, **self.given}


class DeliveryRules:
    """The rules in force, in order (the configured ones first); thread-safe."""

    def __init__(self, configured: tuple[DeliveryRule, ...] = ()) -> None:
        self.configured = configured
        self._rules: tuple[DeliveryRule, ...] = ()
        self._next = 1
        self._lock = threading.Lock()
        self.clear()

    @classmethod
    def from_config(cls, items: Any, source: str = "<config>") -> DeliveryRules:
        """Rules from the config's `webhooks.rules`; errors name the file and the key."""
        if items in (None, []):
            return cls()
        if not isinstance(items, list):
            raise ConfigError(f"{source}: webhooks.rules must be a list of rules")
        rules = []
        for i, item in enumerate(items):
            try:
                rules.append(DeliveryRule.parse(item))
            except DeliveryFaultError as exc:
                where = f"webhooks.rules[{i}]" + (f".{exc.key}" if exc.key else "")
                raise ConfigError(f"{source}: {where}: {exc}") from None
        return cls(tuple(rules))

    def _arm(self, rule: DeliveryRule) -> DeliveryRule:
        rule = replace(rule, id=f"w{self._next}")
        self._next += 1
        self._rules = (*self._rules, rule)
        return rule

    def add(self, data: Any, namespace: str | None = None) -> DeliveryRule:
        """Add a rule (its admin form); `namespace` makes it private to that namespace."""
        rule = DeliveryRule.parse(data, namespace)
        with self._lock:
            return self._arm(rule)

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = tuple(r for r in self._rules if r.id != rule_id)
            return len(self._rules) < before

    def clear(self, namespace: str | None = None) -> int:
        """Drop one namespace's rules, or every rule and re-arm the configured ones."""
        with self._lock:
            before = len(self._rules)
            if namespace is not None:
                self._rules = tuple(r for r in self._rules if r.namespace != namespace)
                return before - len(self._rules)
            self._rules, self._next = (), 1
            for rule in self.configured:
                self._arm(rule)
            return before

    def list(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The rules that apply to `namespace` (all when None)."""
        return [r.as_dict() for r in self._rules
                if namespace is None or r.namespace in (None, namespace)]

    def match(self, namespace: str, topic: str, url: str) -> DeliveryFaults | None:
        """The controls of the first rule for this delivery, or None."""
        for rule in self._rules:  # a tuple: read without the lock
            if rule.matches(namespace, topic, url):
                return rule.controls
        return None

    def state(self) -> dict[str, Any]:
        """What a state file or database keeps."""
        with self._lock:
            return {"next": self._next, "rules": [r.as_dict() for r in self._rules]}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take over kept rules (see `state`)."""
        with self._lock:
            rules = []
            for kept in state.get("rules", ()):
                given = {k: v for k, v in kept.items() if k != "id"}
                rules.append(replace(DeliveryRule.parse(given), id=str(kept["id"])))
            self._rules, self._next = tuple(rules), int(state.get("next", 1))
