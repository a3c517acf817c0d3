"""advance(seconds): the mock's clock when we control it, otherwise real time within a budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import requests

ADMIN_CLOCK = "/_mock/clock"


class BudgetExhausted(Exception):
    """Real-time polling ran out of its budget: the job did not end in time, a failed check."""


class ClockHandle(Protocol):
    """What the suite needs of an in-process VirtualClock."""

    def advance(self, seconds: float) -> float: ...  # pragma: no cover


def _clock_now(base_url: str) -> float | None:
    """The target's `GET /_mock/clock` time in POSIX seconds, None when it has none to give."""
    resp = requests.get(base_url + ADMIN_CLOCK, timeout=5)
    body = resp.json() if resp.status_code == 200 else None
    epoch = body.get("epoch") if isinstance(body, dict) else None
    if isinstance(epoch, int | float) and not isinstance(epoch, bool):
        return float(epoch)
    return None


def clock_moves(base_url: str, steps: tuple[float, ...] = (60.0, 120.0)) -> bool:
    """True only when advancing the target's admin clock really moves it, by what was asked.

    A 2xx proves nothing: a stateless mock of openapi.yaml (Prism) answers `/_mock/clock` from
    the spec with the same (or a random) time every call. Each step must move `epoch` by at least
    the advance and by less than a minute more (a running clock keeps ticking meanwhile).
    """
    try:
        for seconds in steps:
            before = _clock_now(base_url)
            moved = requests.post(base_url + ADMIN_CLOCK, json={"advance": seconds}, timeout=5)
            after = _clock_now(base_url)
            if before is None or after is None or moved.status_code != 200:
                return False
            if not seconds - 0.002 <= after - before < seconds + 60:
                return False
    except (requests.RequestException, ValueError):
        return False
    return True


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
