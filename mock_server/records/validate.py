"""Import item validation with ActiveModel-style messages, as errors_log shows them (§2.6)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .catalog import RecordType
from .store import UNLOOKED, RecordStore

Errors = dict[str, list[str]]

# Rails' default messages; the notes' errors_log examples use the first two verbatim (§2.6).
TAKEN = "has already been taken"
MUST_EXIST = "must exist"
BLANK = "can't be blank"
INVALID = "is invalid"
NOT_INCLUDED = "is not included in the list"


def is_blank(value: Any) -> bool:
    """Rails' blank?: None, empty or whitespace-only strings, empty containers."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def matches_type(value: Any, json_type: str) -> bool:
    """Whether a non-null value fits a catalog json type (bools are not numbers)."""
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if json_type == "datetime":
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return isinstance(value, _PYTHON_TYPES[json_type])


_PYTHON_TYPES: dict[str, type] = {"string": str, "boolean": bool, "object": dict, "array": list}


def apply_parent(rtype: RecordType, item: Mapping[str, Any], parent_id: str | None
                 ) -> dict[str, Any]:
    """The item with its parent key from parent_resource_id; the item's own id wins (§1.2)."""
    out = dict(item)
    if parent_id and rtype.parent and is_blank(out.get(rtype.parent)):
        out[rtype.parent] = parent_id
    return out


def item_key(rtype: RecordType, item: Any, index: int) -> str:
    """The errors_log key of an item: its identifier (e.g. code, email), its id, or its index."""
    if isinstance(item, Mapping):
        for attr in (rtype.identifier, "id"):
            value = item.get(attr)
            if not is_blank(value) and isinstance(value, (str, int, float)):
                return str(value)
    return str(index)


def validate_item(rtype: RecordType, item: Any, store: RecordStore, *,
                  parent_id: str | None = None, existing: Any = UNLOOKED) -> Errors | None:
    """Errors for one import item against the catalog and the tenant's records, or None
    (`existing`: the record it updates, `store.lookup`, when the caller has it)."""
    if not isinstance(item, Mapping):
        return {"base": [INVALID]}
    if parent_id:
        item = apply_parent(rtype, item, parent_id)
    errors: Errors = {}

    def add(key: str, message: str) -> None:
        messages = errors.setdefault(key, [])
        if message not in messages:
            messages.append(message)

    # An update is checked as Rails would: the stored record merged with the item.
    if existing is UNLOOKED or parent_id:
        existing = store.lookup(rtype.name, item)
    existing = existing or {}
    for attr in rtype.required:
        if is_blank(item[attr] if attr in item else existing.get(attr)):
            # A missing belongs-to key reads as "<relationship> must exist", as in Rails 5+.
            rel = rtype.relationship_of(attr)
            add(rel or attr, MUST_EXIST if rel else BLANK)
    for attr, value in item.items():
        json_type = rtype.attributes.get(attr)
        if json_type is None or value is None:
            continue  # unknown keys are ignored by the upsert, not rejected  # inferred
        if not matches_type(value, json_type):
            add(attr, INVALID)
        elif attr in rtype.enums and value not in rtype.enums[attr]:
            add(attr, NOT_INCLUDED)
    for rel in rtype.must_exist:
        attr, target_attr = rtype.foreign_keys[rel]
        value = item.get(attr)
        if is_blank(value) or attr in errors or rel in errors:
            continue
        if store.find(rtype.relationships[rel], target_attr, value) is None:
            add(rel, MUST_EXIST)
    _check_taken(rtype, item, store, add)
    return errors or None


def _check_taken(rtype: RecordType, item: Mapping[str, Any], store: RecordStore,
                 add: Callable[[str, str], None]) -> None:
    """An item matched by id may not move onto another record's unique key."""
    rid = item.get("id")
    if rid is None:
        return
    if not isinstance(rid, str) or is_blank(rid):
        add("id", INVALID)
        return
    existing = store.get(rtype.name, rid)
    if existing is None or not rtype.unique_key:
        return
    merged = {**existing, **{a: item[a] for a in rtype.unique_key if a in item}}
    owner = store.key_owner(rtype.name, merged)
    if owner is not None and owner != rid:
        add(rtype.unique_key[0], TAKEN)
