"""advance(seconds): the mock's clock when we control it, otherwise real time within a budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import requests

ADMIN_CLOCK = "/_mock/clock"


class BudgetExhausted(Exception):
    """Real-time polling ran out of its budget (the job may simply be slow)."""


class ClockHandle(Protocol):
    """What the suite needs of an in-process VirtualClock."""

    def advance(self, seconds: float) -> float: ...  # pragma: no cover


def admin_clock_available(base_url: str, headers: dict[str, str] | None = None) -> bool:
    """True when the target serves the mock's admin clock (`GET /_mock/clock` → 200 JSON)."""
    try:
        resp = requests.get(base_url + ADMIN_CLOCK, headers=headers or {}, timeout=5)
        return resp.status_code == 200 and isinstance(resp.json(), dict)
    except (requests.RequestException, ValueError):
        return False


@dataclass
class Timeline:
    """Moves time forward for lifecycle tests: in-process clock → HTTP admin clock → sleeping.

    Against a real server the clock cannot be controlled: `advance` sleeps, and the whole test
    session shares one polling budget so a slow server cannot hang CI.
    """

    base_url: str
    handle: ClockHandle | None = None  # the in-process mock's VirtualClock
    admin: bool = False  # the target has POST /_mock/clock
    budget: float = 120.0  # real seconds all lifecycle polling may spend
    interval: float = 1.0  # real seconds between polls without clock control
    sleep: Callable[[float], None] = time.sleep
    spent: float = field(default=0.0)

    @property
    def controlled(self) -> bool:
        """True when advancing is instant (the mock's virtual clock)."""
        return self.handle is not None or self.admin

    def advance(self, seconds: float) -> None:
        """Let `seconds` of (virtual or real) time pass."""
        if seconds <= 0:
            return
        if self.handle is not None:
            self.handle.advance(seconds)
            return
        if self.admin:
            resp = requests.post(self.base_url + ADMIN_CLOCK, json={"advance": seconds}, timeout=10)
            resp.raise_for_status()
            return
        left = self.budget - self.spent
        if left <= 0:
            raise BudgetExhausted(f"the real-time polling budget of {self.budget:g} s is used up")
        step = min(seconds, left)
        self.sleep(step)
        self.spent += step

    def step(self) -> float:
        """How far one polling step moves time: virtual seconds, or one real interval."""
        return 1.0 if self.controlled else self.interval
