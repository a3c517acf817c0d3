"""VirtualClock: freeze, advance, set, speed, driven by a fake real-time source."""

from __future__ import annotations

import pytest

from mock_server.domain.clock import VirtualClock


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


def test_a_namespace_keeps_its_own_time() -> None:
    real = FakeReal()
    clock = VirtualClock(start=0.0, speed=2.0, real=real)
    own = clock.own("ns1")
    assert clock.own("ns1") is own and clock.of("ns1") is own and clock.of("ns2") is clock
    own.freeze()
    own.advance(100)
    real.t += 5
    assert clock.now() == pytest.approx(10.0)  # the server's time flows on, untouched
    assert clock.now("ns1") == pytest.approx(100.0)
    assert clock.now("ns2") == pytest.approx(10.0)  # no own clock: the server's
    assert clock.drop("ns1") == 1 and clock.now("ns1") == pytest.approx(10.0)


def test_an_own_clock_starts_as_the_server_clock_is() -> None:
    real = FakeReal()
    clock = VirtualClock(start=50.0, speed=3.0, frozen=True, real=real)
    own = clock.own("ns")
    assert (own.now(), own.speed, own.frozen) == (50.0, 3.0, True)


def test_advance_takes_a_timedelta() -> None:
    from datetime import timedelta

    clock = VirtualClock(start=0.0, frozen=True, real=FakeReal())
    assert clock.advance(timedelta(minutes=2)) == pytest.approx(120.0)
