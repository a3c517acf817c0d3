"""How deliveries are sent: the retry schedule, the receiver's time limit, the circuit breaker.

The config's `webhooks:` section sets them (defaults: the vendor's documented numbers, and an
inferred schedule where it documents none):

    webhooks:
      retries: 10          # retries after the first attempt (notes: "up to 10 retries")
      first_retry: 30      # virtual seconds before the first retry; doubled for each next one
      max_retry: 3600      # ... but never more than this
      timeout: 5           # real seconds a receiver has to answer 2xx
      circuit_after: 30    # consecutive failures (retries included) that open the circuit
      queue: 1000          # deliveries waiting for one receiver; the next wait on the clock
      rules: [...]         # delivery controls by rule (rules.py)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..settings import ConfigError, unknown_key

SECTION = "webhooks"
RULES = "rules"  # the section's member parsed by rules.py


@dataclass(frozen=True, slots=True)
class Policy:
    """The numbers every delivery is sent by."""

    retries: int = 10  # notes: webhooks_state_browser.md §1 "up to 10 retries"
    first_retry: float = 30.0  # inferred: the vendor documents no schedule
    max_retry: float = 3600.0
    timeout: float = 5.0  # notes: "the endpoint must answer 2xx within 5 s"
    circuit_after: int = 30  # notes: "after 30 consecutive failures … deliveries stop"
    queue: int = 1000  # deliveries waiting for one callback URL (memory stays bounded)

    def backoff(self, attempt: int) -> float:
        """Virtual seconds before retry `attempt` (1-based): first_retry, doubled each time,
        at most max_retry (30 s, 1, 2, 4 … min, 1 h by default)."""
        return min(self.first_retry * 2 ** min(attempt - 1, 64), self.max_retry)

    @classmethod
    def from_config(cls, section: Any, source: str = "<config>") -> Policy:
        """The `webhooks:` section's numbers; a bad key or value is a ConfigError naming it."""
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise ConfigError(f"{source}: webhooks must be a mapping (retries, first_retry, "
                              f"max_retry, timeout, circuit_after, rules)")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key == RULES:
                continue
            if key not in known:
                raise ConfigError(unknown_key(source, f"webhooks.{key}", {*known, RULES}))
            whole = key in ("retries", "circuit_after", "queue")
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or (whole and not isinstance(value, int)):
                raise ConfigError(f"{source}: webhooks.{key} must be "
                                  f"{'a whole number' if whole else 'seconds'}, got {value!r}")
            low = 0 if key == "retries" else 1 if whole else 0.001
            high = 1_000_000 if key == "queue" else 1000 if whole else 86_400
            if not low <= value <= high:
                raise ConfigError(f"{source}: webhooks.{key} must be between {low} and "
                                  f"{high}, got {value!r}")
            values[key] = value if whole else float(value)
        policy = cls(**values)
        if policy.max_retry < policy.first_retry:
            raise ConfigError(f"{source}: webhooks.max_retry must not be below first_retry")
        return policy
