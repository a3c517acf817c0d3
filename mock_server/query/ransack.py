"""The ransack predicate table: each name's value arity and its test of one stored value."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .values import Operand, as_text, compare, json_contains, like_pattern

ValueTest = Callable[[Any], bool]  # stored value → does it satisfy the condition?
Arity = Literal["one", "many", "flag", "json"]


def _ordered(accept: Callable[[int], bool]) -> Callable[[Operand, bool], ValueTest]:
    def build(operand: Operand, opaque: bool) -> ValueTest:
        def test(value: Any) -> bool:
            sign = compare(value, operand, opaque)
            return sign is not None and accept(sign)  # NULL compares false, as in SQL

        return test

    return build


def _text(check: Callable[[str, str], bool], negate: bool) -> Callable[[Operand, bool], ValueTest]:
    # Arel's `matches` is ILIKE on PostgreSQL, so cont/start/end ignore case; ransack escapes
    # wildcards for them, so the operand is a literal substring.
    def build(operand: Operand, opaque: bool) -> ValueTest:
        needle = operand.lower

        def test(value: Any) -> bool:
            text = as_text(value)
            return text is not None and check(text.lower(), needle) != negate

        return test

    return build


def _like(negate: bool) -> Callable[[Operand, bool], ValueTest]:
    def build(operand: Operand, opaque: bool) -> ValueTest:
        pattern = like_pattern(operand.text)  # compiled once per condition, not per record

        def test(value: Any) -> bool:
            text = as_text(value)
            return text is not None and (pattern.fullmatch(text) is None) == negate

        return test

    return build


_BASE: dict[str, Callable[[Operand, bool], ValueTest]] = {
    "eq": _ordered(lambda s: s == 0),
    "not_eq": _ordered(lambda s: s != 0),
    "lt": _ordered(lambda s: s < 0),
    "lteq": _ordered(lambda s: s <= 0),
    "gt": _ordered(lambda s: s > 0),
    "gteq": _ordered(lambda s: s >= 0),
    "matches": _like(False),
    "does_not_match": _like(True),
    "start": _text(str.startswith, False),
    "not_start": _text(str.startswith, True),
    "end": _text(str.endswith, False),
    "not_end": _text(str.endswith, True),
    "cont": _text(str.__contains__, False),
    "not_cont": _text(str.__contains__, True),
}
# Exactly the compounds Commerce Layer documents (CORE src/filter.ts), not all of ransack's.
_COMPOUNDS = (
    "matches_any matches_all does_not_match_any does_not_match_all lt_any lt_all lteq_any "
    "lteq_all gt_any gt_all gteq_any gteq_all not_eq_all eq_any start_any start_all "
    "not_start_any not_start_all end_any end_all not_end_any not_end_all cont_any cont_all "
    "not_cont_all"
).split()


@dataclass(frozen=True, slots=True)
class Predicate:
    """How a predicate reads its value and turns it into a test of one stored value."""

    arity: Arity
    make: Callable[[tuple[Any, ...], bool], ValueTest]


def _single(base: str) -> Predicate:
    build = _BASE[base]
    return Predicate("one", lambda values, opaque: build(Operand.of(values[0]), opaque))


def _combined(base: str, combine: Callable[[Iterable[bool]], bool], or_null: bool) -> Predicate:
    build = _BASE[base]

    def make(values: tuple[Any, ...], opaque: bool) -> ValueTest:
        tests = tuple(build(Operand.of(v), opaque) for v in values)
        if or_null:
            return lambda value: value is None or combine(t(value) for t in tests)
        return lambda value: combine(t(value) for t in tests)

    return Predicate("many", make)


def _or_null(base: str) -> Predicate:
    build = _BASE[base]

    def make(values: tuple[Any, ...], opaque: bool) -> ValueTest:
        test = build(Operand.of(values[0]), opaque)
        return lambda value: value is None or test(value)

    return Predicate("one", make)


def _is_blank(value: Any) -> bool:
    # SQL blank is NULL or ''; empty objects/arrays (metadata {}) count as blank too.
    return value is None or value == "" or (isinstance(value, Mapping | list) and not value)


def _flag(when_true: ValueTest, when_false: ValueTest) -> Predicate:
    # ransack inverts boolean predicates on a false value: `null=false` means NOT NULL.
    return Predicate("flag", lambda values, opaque: when_true if values[0] else when_false)


def _jcont(values: tuple[Any, ...], opaque: bool) -> ValueTest:
    wanted = values[0]
    return lambda value: value is not None and json_contains(value, wanted)


_TRUE, _FALSE = Operand.of(True), Operand.of(False)

PREDICATES: Mapping[str, Predicate] = {
    **{name: _single(name) for name in _BASE},
    **{
        name: _combined(name.rsplit("_", 1)[0], any if name.endswith("_any") else all, False)
        for name in _COMPOUNDS
    },
    "in": _combined("eq", any, False),
    "not_in": _combined("not_eq", all, False),
    "in_or_null": _combined("eq", any, True),
    "not_in_or_null": _combined("not_eq", all, True),
    "eq_or_null": _or_null("eq"),
    "not_eq_or_null": _or_null("not_eq"),
    "present": _flag(lambda v: not _is_blank(v), _is_blank),
    "blank": _flag(_is_blank, lambda v: not _is_blank(v)),
    "null": _flag(lambda v: v is None, lambda v: v is not None),
    "not_null": _flag(lambda v: v is not None, lambda v: v is None),
    "true": _flag(_BASE["eq"](_TRUE, False), _BASE["not_eq"](_TRUE, False)),
    "false": _flag(_BASE["eq"](_FALSE, False), _BASE["not_eq"](_FALSE, False)),
    "jcont": Predicate("json", _jcont),
}
