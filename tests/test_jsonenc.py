"""Request bodies and stored JSON read back exactly: integers of any length stay integers (orjson
reads up to 64 bits; longer ones go to the stdlib's parser), whatever surrounds them."""

from __future__ import annotations

import json

import pytest

from mock_server.jsonenc import loads, loads_own

NUMBERS = [0, 7, 10 ** 17, 10 ** 18 - 1, 10 ** 18, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64,
           10 ** 19, 10 ** 30 + 1, -(2 ** 63), -(2 ** 63) - 1, -(10 ** 25) - 3]


@pytest.mark.parametrize("read", [loads, loads_own])
@pytest.mark.parametrize("n", NUMBERS)
def test_integers_of_any_length_are_read_exactly(read: object, n: int) -> None:
    doc = {"code": "SKU-1", "weight": n, "rows": [1, n, {"deep": [n]}], "name": "a b"}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    got = read(raw)  # type: ignore[operator]
    assert got == doc and type(got["weight"]) is int and got["rows"][2]["deep"] == [n]


def test_long_digit_runs_in_strings_and_floats_read_as_written() -> None:
    raw = b'{"code": "12345678901234567890123", "x": 1234567890123456789.5, "y": 1.5e300}'
    assert loads(raw) == {"code": "12345678901234567890123", "x": 1234567890123456789.5,
                          "y": 1.5e300}
