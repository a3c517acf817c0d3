"""Commerce Layer timestamps: ISO-8601 UTC with milliseconds, exactly as datetime would write them."""

import random
from datetime import UTC, datetime

from mock_server.timefmt import cl_time


def _datetime_says(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_cl_time_writes_what_datetime_writes_rounding_included() -> None:
    rnd = random.Random(7)
    instants = [rnd.uniform(0, 32503680000) for _ in range(20_000)]  # up to the clock's last
    instants += [rnd.uniform(-1e6, 1e6) for _ in range(2_000)]
    # microseconds that round half to even, or carry into the next second
    instants += [s + f for s in (0, 59, 1764979200) for f in
                 (0.0, 0.0000005, 0.0000015, 0.4999995, 0.9995, 0.9999994, 0.9999995, 0.9999996)]
    instants += [-0.0000005, -0.5, -1.9999995]
    assert [cl_time(t) for t in instants] == [_datetime_says(t) for t in instants]


def test_cl_time_of_no_instant_is_none() -> None:
    assert cl_time(None) is None
    assert cl_time(1767225600.0) == "2026-01-01T00:00:00.000Z"
