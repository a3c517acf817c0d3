"""QA controls on one webhook's deliveries: `metadata.mock_delivery` of the webhook.

    {"delay": 30}                      every event sent 30 virtual seconds late
    {"delay": {"min": 0, "max": 60}}   uniformly 0-60 s late (so events may arrive out of order)
    {"drop": 0.5}                      half the events never sent (1: none is)
    {"duplicate": 1}                   every event sent twice (the same X-Mock-Event-Id)
    {"bad_signature": true}            signed with a wrong secret
    {"fail": true}                     every answer counts as a failure (trips the circuit)

Random draws are seeded by the server seed and the event id: a run repeats exactly. Set with
the webhook's create or PATCH (any client), so QA needs no other API.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY = "mock_delivery"
KNOWN = ("delay", "drop", "duplicate", "bad_signature", "fail")


class DeliveryFaultError(ValueError):
    """A `mock_delivery` that cannot be used; `key` names the member at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class DeliveryFaults:
    """What to do to one webhook's deliveries."""

    delay: tuple[float, float] = (0.0, 0.0)  # virtual seconds, uniform between the two
    drop: float = 0.0
    duplicate: float = 0.0
    bad_signature: bool = False
    fail: bool = False

    @classmethod
    def of(cls, hook: Mapping[str, Any]) -> DeliveryFaults | None:
        """The webhook's controls (None when it has none)."""
        metadata = hook.get("metadata")
        given = metadata.get(KEY) if isinstance(metadata, Mapping) else None
        return None if given is None else cls.parse(given)

    @classmethod
    def parse(cls, given: Any) -> DeliveryFaults:
        if not isinstance(given, Mapping):
            raise DeliveryFaultError("", "must be an object, e.g. {\"delay\": 30}")
        unknown = sorted(set(given) - set(KNOWN))
        if unknown:
            raise DeliveryFaultError(unknown[0], f"is not a delivery control (known: "
                                                 f"{', '.join(KNOWN)})")
        return cls(delay=_delay(given.get("delay", 0)),
                   drop=_share("drop", given.get("drop", 0)),
                   duplicate=_share("duplicate", given.get("duplicate", 0)),
                   bad_signature=_flag("bad_signature", given.get("bad_signature", False)),
                   fail=_flag("fail", given.get("fail", False)))

    def draw(self, seed: int, event_id: str) -> tuple[bool, float, int]:
        """(dropped, delay in virtual seconds, copies to send) for one event."""
        rng = random.Random(f"{seed}/{event_id}")
        dropped = rng.random() < self.drop
        delay = rng.uniform(*self.delay) if self.delay[1] > self.delay[0] else self.delay[0]
        copies = 2 if rng.random() < self.duplicate else 1
        return dropped, delay, copies


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DeliveryFaultError(key, "must be a number of seconds ≥ 0")
    return float(value)


def _delay(value: Any) -> tuple[float, float]:
    if isinstance(value, Mapping):
        low, high = _number("delay", value.get("min", 0)), _number("delay", value.get("max", 0))
        if high < low:
            raise DeliveryFaultError("delay", "max must not be below min")
        return low, high
    seconds = _number("delay", value)
    return seconds, seconds


def _share(key: str, value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DeliveryFaultError(key, "must be a share between 0 and 1 (or true)")
    return float(value)


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise DeliveryFaultError(key, "must be true or false")
    return value
