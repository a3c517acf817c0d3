"""Value coercion shared by filters and sorting: SQL-like comparison of JSON and query values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# Rails/ransack boolean spellings (ActiveModel::Type::Boolean), compared case-insensitively.
_TRUE_WORDS = frozenset({"1", "t", "true", "on"})
_FALSE_WORDS = frozenset({"0", "f", "false", "off"})
# float() alone accepts "1_000", " 5 ", "nan" and "inf", none of which a user means as a number.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def is_opaque(attribute: str) -> bool:
    """Ids compare as plain strings: the cleanups CLI pages with `sort=id` + `id_lteq`."""
    return attribute == "id" or attribute == "ids" or attribute.endswith("_id")


def parse_bool(value: Any) -> bool | None:
    """A ransack boolean ('true', '1', 't', 'on', True, 1 …) or None when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def parse_number(text: str) -> int | float | None:
    """A decimal number written as text, or None."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return None


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 date or datetime (Z, offset, or naive = UTC), or None."""
    # Cheap shape check first: most strings compared per record are not timestamps.
    if len(text) < 10 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _aware(value: date) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def as_text(value: Any) -> str | None:
    """The text a LIKE-style predicate sees for a stored value (None stays None, like SQL NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return str(value)


@dataclass(frozen=True, slots=True)
class Operand:
    """One filter value, pre-parsed once into every form a stored value may be compared with."""

    raw: Any
    text: str
    lower: str
    number: int | float | None
    moment: datetime | None
    boolean: bool | None

    @classmethod
    def of(cls, raw: Any) -> Operand:
        """Parse a query-string or JSON value."""
        text = as_text(raw) or ""
        if isinstance(raw, bool):
            number, moment = None, None
        elif isinstance(raw, int | float):
            number, moment = raw, None
        elif isinstance(raw, date):
            number, moment = None, _aware(raw)
        elif isinstance(raw, str):
            number, moment = parse_number(raw.strip()), parse_datetime(raw.strip())
        else:
            number, moment = None, None
        return cls(raw, text, text.lower(), number, moment, parse_bool(raw))


def _sign(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def compare(value: Any, operand: Operand, opaque: bool = False) -> int | None:
    """-1/0/1 comparing a stored value with an operand, or None when SQL would say NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None if operand.boolean is None else _sign(value, operand.boolean)
    if isinstance(value, int | float):
        if operand.number is not None:
            return _sign(value, operand.number)
        # A store may keep timestamps as POSIX seconds; compare them with a datetime operand.
        if operand.moment is not None:
            return _sign(value, operand.moment.timestamp())
        return None
    if isinstance(value, date):
        return None if operand.moment is None else _sign(_aware(value), operand.moment)
    if isinstance(value, str):
        if not opaque:
            if operand.moment is not None and (moment := parse_datetime(value)) is not None:
                return _sign(moment, operand.moment)
            if operand.number is not None and (number := parse_number(value)) is not None:
                return _sign(number, operand.number)
        return _sign(value, operand.text)
    # Objects and arrays only support equality.
    return 0 if value == operand.raw else None


def sort_value(value: Any, opaque: bool = False) -> tuple[Any, ...]:
    """A totally ordered key for one stored value: None < numbers < datetimes < text < objects."""
    if value is None:
        return (0,)
    if isinstance(value, bool | int | float):
        return (1, value)
    if isinstance(value, date):
        return (2, _aware(value).timestamp())
    if isinstance(value, str):
        if not opaque and (moment := parse_datetime(value)) is not None:
            return (2, moment.timestamp())
        return (3, value)
    return (4, as_text(value))


def like_pattern(pattern: str) -> re.Pattern[str]:
    """SQL LIKE (% any run, _ one char, backslash escapes) as a case-insensitive regex (ILIKE)."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def json_contains(container: Any, contained: Any) -> bool:
    """PostgreSQL jsonb `@>`: objects by key subset, arrays by element subset, scalars equal."""
    if isinstance(contained, Mapping):
        return isinstance(container, Mapping) and all(
            key in container and json_contains(container[key], item)
            for key, item in contained.items()
        )
    if isinstance(container, list | tuple):
        if isinstance(contained, list | tuple):
            return all(any(json_contains(c, item) for c in container) for item in contained)
        # Postgres special case: a top-level array contains a bare scalar element.
        return any(_same_scalar(c, contained) for c in container)
    return _same_scalar(container, contained)


def _same_scalar(a: Any, b: Any) -> bool:
    # Python says True == 1; JSON does not.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return not isinstance(a, Mapping | list | tuple) and a == b
