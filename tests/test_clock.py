"""VirtualClock: freeze, advance, set, speed, driven by a fake real-time source."""

from __future__ import annotations

import pytest

from mock_server.clock import VirtualClock


class FakeReal:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_flows_at_speed_and_freezes() -> None:
    real = FakeReal()
    clock = VirtualClock(start=0.0, speed=10.0, real=real)
    real.t += 2
    assert clock.now() == pytest.approx(20.0)
    clock.freeze()
    real.t += 100
    assert clock.now() == pytest.approx(20.0)
    clock.resume()
    real.t += 1
    assert clock.now() == pytest.approx(30.0)


def test_advance_set_and_speed_change_keep_time_continuous() -> None:
    real = FakeReal()
    clock = VirtualClock(start=0.0, frozen=True, real=real)
    assert clock.advance(3600) == 3600
    assert clock.set(7200) == 7200
    clock.resume()
    clock.set_speed(60)
    real.t += 1
    assert clock.now() == pytest.approx(7260)


@pytest.mark.parametrize("bad", [lambda c: c.advance(-1), lambda c: c.set(-5), lambda c: c.set_speed(0)])
def test_refuses_going_backwards_or_stopping(bad) -> None:  # type: ignore[no-untyped-def]
    clock = VirtualClock(start=0.0, frozen=True, real=FakeReal())
    with pytest.raises(ValueError):
        bad(clock)
    assert clock.now() == 0.0
