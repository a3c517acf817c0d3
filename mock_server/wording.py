"""Request-body validation failures in each vendor's words.

Commerce Layer answers in Rails' words with the ActiveModel validator in `meta.error`
(`inputs - can't be blank`, `blank`; notes: commercelayer_api.md "Error object"), and refuses an
attribute it does not know as jsonapi-resources does (400 `PARAM_NOT_ALLOWED`). Rackspace lists
sentences under "Validation failed." (`"Name is required."`; notes: rackspace_cleanups.md §8).
JSON Schema's own messages (`[] should be non-empty`) never reach a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

NUMBERS = frozenset({"number", "integer"})


@dataclass(frozen=True, slots=True)
class Failure:
    """One violation, vendor-neutral: which field, which rule (ActiveModel's name), its limit."""

    field: str
    pointer: str
    rule: str  # blank, inclusion, invalid, not_a_number, not_an_integer, too_long, too_short,
    #            greater_than(_or_equal_to), less_than(_or_equal_to), not_permitted
    count: Any = None  # the limit a length or number rule names
    value: Any = None  # what was sent (lengths: its length)
    allowed: tuple[Any, ...] = ()  # inclusion: the values taken

    def rails(self) -> str:
        """The message Rails gives (the part after `field - `)."""
        return _RAILS[self.rule].format(count=self.count)

    def sentence(self) -> str:
        """The sentence Rackspace lists."""
        name = self.field.replace("_", " ").capitalize()
        if self.rule == "inclusion" and self.allowed:
            return f"{name} must be one of: {', '.join(map(str, self.allowed))}."
        return f"{name} {_PLAIN[self.rule].format(count=self.count)}."

    def meta(self) -> dict[str, Any]:
        """The vendor's `meta`: the validator, with value and count where it has them."""
        if self.count is None:
            return {"error": self.rule}
        return {"error": self.rule, "value": self.value, "count": self.count}


_RAILS = {
    "blank": "can't be blank", "inclusion": "is not included in the list",
    "invalid": "is invalid", "not_a_number": "is not a number",
    "not_an_integer": "must be an integer",
    "too_long": "is too long (maximum is {count})", "too_short": "is too short (minimum is {count})",
    "greater_than": "must be greater than {count}",
    "greater_than_or_equal_to": "must be greater than or equal to {count}",
    "less_than": "must be less than {count}",
    "less_than_or_equal_to": "must be less than or equal to {count}",
    "not_permitted": "is not allowed",
}
_PLAIN = {**_RAILS, "blank": "is required", "not_a_number": "must be a number",
          "inclusion": "is not one of the values taken"}
_BOUNDS = {"minimum": "greater_than_or_equal_to", "maximum": "less_than_or_equal_to",
           "exclusiveMinimum": "greater_than", "exclusiveMaximum": "less_than"}


def _field(path: list[Any]) -> str:
    return next((str(p) for p in reversed(path) if isinstance(p, str)), "data")


def _pointer(path: list[Any]) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "/"


def failures(err: ValidationError) -> list[Failure]:
    """What one jsonschema error means, in the vendors' terms (a `required` error names every
    missing property of its object, the first time it is met)."""
    path = list(err.absolute_path)
    keyword, limit, instance = err.validator, err.validator_value, err.instance
    if keyword == "required":
        present = instance if isinstance(instance, dict) else {}
        return [Failure(str(name), _pointer([*path, name]), "blank")
                for name in limit if name not in present]
    if keyword == "additionalProperties":
        extra = sorted(set(instance) - set(err.schema.get("properties", {})), key=str) \
            if isinstance(instance, dict) else []
        return [Failure(str(name), _pointer([*path, name]), "not_permitted") for name in extra]
    field, pointer = _field(path), _pointer(path)
    if instance is None and keyword in ("type", "minLength", "minItems"):
        return [Failure(field, pointer, "blank")]
    if keyword == "type":
        wanted = {limit} if isinstance(limit, str) else set(limit)
        numeric = isinstance(instance, int | float) and not isinstance(instance, bool)
        if wanted & NUMBERS and not numeric:
            rule = "not_a_number"
        elif "integer" in wanted and isinstance(instance, float):
            rule = "not_an_integer"
        else:
            rule = "invalid"
        return [Failure(field, pointer, rule)]
    if keyword in ("enum", "const"):
        allowed = tuple(limit) if keyword == "enum" else (limit,)
        return [Failure(field, pointer, "inclusion", allowed=allowed)]
    if keyword in ("minItems", "minLength", "maxItems", "maxLength"):
        size = len(instance) if hasattr(instance, "__len__") else 0
        if keyword.startswith("min") and limit <= 1:
            return [Failure(field, pointer, "blank")]
        rule = "too_short" if keyword.startswith("min") else "too_long"
        return [Failure(field, pointer, rule, count=limit, value=size)]
    if keyword in _BOUNDS:
        return [Failure(field, pointer, _BOUNDS[keyword], count=limit, value=instance)]
    return [Failure(field, pointer, "invalid")]
