"""VirtualClock: the only code that reads real time."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import timedelta

# The clock stops at LATEST (3000-01-01T00:00:00Z): every job planned then still ends, and
# renders, well before the year 9999 that timestamps can show. MAX_SPEED keeps a running clock
# from getting there in any run a person would keep going (a real day is ~2,700 years at it).
LATEST = 32_503_680_000.0
LATEST_TEXT = "3000-01-01T00:00:00Z"
MAX_SPEED = 1_000_000.0


def check_speed(speed: float) -> float:
    """`speed` if it is a speed the clock can run at; ValueError saying the range otherwise."""
    if not (isinstance(speed, int | float) and math.isfinite(speed) and 0 < speed <= MAX_SPEED):
        raise ValueError(f"speed must be > 0 and <= {MAX_SPEED:,.0f} (virtual seconds per real "
                         f"second), got {speed!r}")
    return float(speed)


def check_instant(when: float) -> float:
    """`when` if the clock may show it; ValueError naming the latest instant otherwise."""
    if not (math.isfinite(when) and when <= LATEST):
        raise ValueError(f"the clock goes no further than {LATEST_TEXT}")
    return when


class VirtualClock:
    """Virtual time = anchor + (real elapsed × speed), with freeze, advance and set.

    Times are POSIX seconds (float). All state changes are O(1) and thread-safe, so the
    admin API, the pytest fixture's thread and request handlers can share one clock.
    A namespace may keep its own time (`own`): a clock forked from this one, so one test's
    freeze/advance leaves other tests' jobs alone; `now(namespace)` reads it.
    """

    __slots__ = ("_lock", "_real", "_anchor_real", "_anchor_virtual", "_speed", "_frozen", "_own",
                 "_namespace", "_on_move")

    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        frozen: bool = False,
        real: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._real = real
        self._anchor_real = real()
        self._anchor_virtual = self._anchor_real if start is None else check_instant(float(start))
        self._speed = check_speed(speed)
        self._frozen = frozen
        self._own: dict[str, VirtualClock] = {}
        self._namespace: str | None = None  # set on a namespace's own clock
        self._on_move: Callable[[str | None, float], None] | None = None

    def on_move(self, fn: Callable[[str | None, float], None]) -> None:
        """Call fn(namespace, now) whenever this clock (or a namespace's own one, forked from it
        later) is set, advanced, frozen, resumed or sped up; namespace None: this clock."""
        self._on_move = fn

    def _moved(self, now: float) -> float:
        if self._on_move is not None:
            self._on_move(self._namespace, now)
        return now

    def now(self, namespace: str | None = None) -> float:
        """Current virtual time in POSIX seconds (the namespace's own time, if it keeps one)."""
        if namespace is not None and self._own:
            own = self._own.get(namespace)
            if own is not None:
                return own.now()
        with self._lock:
            return self._now_locked()

    def of(self, namespace: str | None) -> VirtualClock:
        """The clock a namespace reads: its own, else this one."""
        return self._own.get(namespace, self) if namespace is not None else self

    def own(self, namespace: str) -> VirtualClock:
        """The namespace's own clock, forked from this one (now, speed, frozen) on first use."""
        with self._lock:
            found = self._own.get(namespace)
            if found is None:
                found = VirtualClock(start=self._now_locked(), speed=self._speed,
                                     frozen=self._frozen, real=self._real)
                found._namespace, found._on_move = namespace, self._on_move
                self._own[namespace] = found
            return found

    def drop(self, namespace: str | None = None) -> int:
        """Forget one namespace's own clock (or all); call only once its jobs are gone too.

        A namespace whose clock ran ahead would otherwise see its jobs go back in time.
        """
        with self._lock:
            doomed = [ns for ns in self._own if namespace in (None, ns)]
            for ns in doomed:
                del self._own[ns]
            return len(doomed)

    def anchors(self) -> dict[str, object]:
        """What this clock's time is computed from, its namespaces' own clocks included: a
        durable store keeps it, so time goes on (never back) after a restart."""
        with self._lock:
            own = {ns: c.anchors() for ns, c in self._own.items()}
            return {"real": self._anchor_real, "virtual": self._anchor_virtual,
                    "speed": self._speed, "frozen": self._frozen, "own": own}

    def restore(self, anchors: dict[str, object]) -> None:
        """Take over kept anchors (see `anchors`); namespaces' own clocks are made again."""
        with self._lock:
            self._anchor_real = float(anchors["real"])  # type: ignore[arg-type]
            self._anchor_virtual = float(anchors["virtual"])  # type: ignore[arg-type]
            self._speed = float(anchors["speed"])  # type: ignore[arg-type]
            self._frozen = bool(anchors["frozen"])
            self._own = {}
        for ns, kept in dict(anchors.get("own") or {}).items():  # type: ignore[call-overload]
            self.own(ns).restore(kept)
        self._moved(self.now())  # a replica following another's clock change: as if made here

    def _now_locked(self) -> float:
        if self._frozen:
            return self._anchor_virtual
        return min(self._anchor_virtual + (self._real() - self._anchor_real) * self._speed, LATEST)

    def _rebase(self, virtual: float) -> None:
        self._anchor_real = self._real()
        self._anchor_virtual = virtual

    def wall(self) -> float:
        """Real wall-clock time (token expiry, rate-limit windows of real clients)."""
        return self._real()

    @property
    def speed(self) -> float:
        """Virtual seconds per real second."""
        return self._speed

    @property
    def frozen(self) -> bool:
        """True while time stands still (only advance/set move it)."""
        return self._frozen

    def freeze(self) -> float:
        """Stop time at the current instant; returns it."""
        with self._lock:
            self._rebase(self._now_locked())
            self._frozen = True
            now = self._anchor_virtual
        return self._moved(now)

    def resume(self) -> float:
        """Let time flow again from the current instant."""
        with self._lock:
            self._rebase(self._now_locked())
            self._frozen = False
            now = self._anchor_virtual
        return self._moved(now)

    def advance(self, seconds: float | timedelta) -> float:
        """Jump forward by `seconds` or a timedelta (never backwards); returns the new now."""
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if not seconds >= 0:
            raise ValueError("cannot advance by a negative duration")
        with self._lock:
            self._rebase(check_instant(self._now_locked() + seconds))
            now = self._anchor_virtual
        return self._moved(now)

    def set(self, when: float) -> float:
        """Jump to an absolute instant; moving backwards is refused (jobs never regress)."""
        with self._lock:
            if when < self._now_locked():
                raise ValueError("cannot set the clock backwards")
            self._rebase(check_instant(float(when)))
            now = self._anchor_virtual
        return self._moved(now)

    def set_speed(self, speed: float) -> None:
        """Change how fast virtual time flows from now on."""
        speed = check_speed(speed)
        with self._lock:
            self._rebase(self._now_locked())
            self._speed = speed
            now = self._anchor_virtual
        self._moved(now)
