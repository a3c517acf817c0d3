"""JSON in and out, strictly (RFC 8259): request bodies parsed by `loads`, response bodies made by
`dumps`; orjson when installed (10× faster on lists), else the stdlib held to the same rules."""

from __future__ import annotations

import json
import math
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; a --no-deps install still works
    orjson = None  # type: ignore[assignment]

_OPTIONS = orjson.OPT_NON_STR_KEYS if orjson is not None else 0


class Encoded:
    """Already-encoded JSON that dumps() splices in as is: its `raw` bytes (a subclass may
    work them out only when asked, as a job's stored inputs do: `store.Packed`)."""

    __slots__ = ()
    raw: bytes


class Raw(Encoded):
    """Encoded JSON held as it is."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


def _orjson_default(value: Any) -> Any:
    if isinstance(value, Encoded):
        return orjson.Fragment(value.raw)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _stdlib_default(value: Any) -> Any:
    if isinstance(value, Encoded):
        return json.loads(value.raw)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes; anything orjson refuses (big ints, lone surrogates) goes to the stdlib."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=_orjson_default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    # ensure_ascii: a lone surrogate (valid in JSON text, not in UTF-8) is echoed as \\udXXX
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False,
                      default=_stdlib_default).encode()


def trimmed(raw: bytes | bytearray) -> bytes:
    """`raw` as bytes fit to keep after the request (a cache, a store, the journal): orjson
    writes into a 4 KB buffer and hands it over whole, so 80 bytes of links kept as they came
    hold 4 KB; the copy holds what it says."""
    return memoryview(raw).tobytes()


def dumps_kept(value: Any) -> bytes:
    """`dumps` for bytes that outlive the request (see `trimmed`)."""
    return trimmed(dumps(value))


def loads_own(raw: bytes) -> Any:
    """JSON this server wrote itself with `dumps` (no checks: it was checked when it came in)."""
    if orjson is not None and not _long_number(raw):  # orjson makes huge ints floats
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # what only the stdlib wrote, e.g. lone surrogates
            pass
    return json.loads(raw)


MAX_DEPTH = 100  # nesting a request body may have (Rails' JSON max_nesting, as the vendor's API)


def loads(raw: bytes) -> Any:
    """A request body as JSON: UTF-8 without BOM, no NaN or Infinity, numbers a double can hold,
    at most MAX_DEPTH deep; ValueError saying what is wrong otherwise."""
    if orjson is not None and not _long_number(raw):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "surrogate" not in str(exc):
                raise ValueError(str(exc)) from None
            value = _stdlib_loads(raw)  # "\ud800" is JSON text (RFC 8259 §8.2): kept as sent
    else:  # integers beyond 64 bits stay exact; orjson would make them floats
        value = _stdlib_loads(raw)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper(value, MAX_DEPTH):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


# Integers beyond 64 bits (19 digits and more) become floats in orjson: such texts are read by
# the stdlib. Found by mapping every digit to "0" and looking for 19 in a row: both run in C at
# memory speed (a regular expression over a 1 KB body took 12 µs, 3.6× orjson's whole parse).
_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def _long_number(raw: bytes | bytearray) -> bool:
    """True if `raw` holds 19 digits in a row (a number orjson might not keep exact)."""
    return _LONG_RUN in raw.translate(_AS_ZERO)


def _stdlib_loads(raw: bytes) -> Any:
    """The stdlib's parser held to orjson's rules: UTF-8, no NaN/Infinity, finite numbers."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                          parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason}") from None
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _deeper(value: Any, limit: int) -> bool:
    """True when `value` nests lists and objects more than `limit` deep (no recursion)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []  # depth 1
    for _ in range(limit):
        if not level:
            return False
        level = [child for item in level
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
    return bool(level)


def fragment(raw: bytes) -> Raw:
    """Already-encoded JSON that dumps() splices in as is."""
    return Raw(raw)
