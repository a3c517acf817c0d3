"""Related records by relationship name: the one resolver exports (includes, relationship
fields) and record lists use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .catalog import Catalog, RecordType
from .store import RecordStore

Related = Callable[[str, Mapping[str, Any]], "dict[str, Any] | list[dict[str, Any]] | None"]


def resolver(store: RecordStore, catalog: Catalog, top: RecordType) -> Related:
    """Related records by relationship name, knowing each record's type without record["type"].

    The store keeps the JSON:API type under "type", which a catalog attribute of that name
    (promotions.type, price_tiers.type) overwrites; so records passed in are of type `top`
    unless this resolver returned them, and it remembers the type of what it returns.
    """
    seen: dict[int, RecordType] = {}
    groups: dict[tuple[str, str], dict[Any, list[dict[str, Any]]]] = {}

    def related(rel: str, record: Mapping[str, Any]) -> Any:
        rtype = seen.get(id(record), top)
        if rel not in rtype.relationships:
            raise ValueError(f"{rtype.name} has no relationship {rel!r}")
        target = catalog[rtype.relationships[rel]]
        if rel in rtype.foreign_keys:
            attr, target_attr = rtype.foreign_keys[rel]
            value = record.get(attr)
            found = None if value is None else store.find(target.name, target_attr, value)
            if found is not None:
                seen[id(found)] = target
            return found
        child, attr, own_attr = catalog.inverse(rtype, rel)
        if (child, attr) not in groups:
            index: dict[Any, list[dict[str, Any]]] = {}
            for c in store.list(child):
                if isinstance(c.get(attr), str | int | float):
                    index.setdefault(c[attr], []).append(c)
            groups[(child, attr)] = index
        value = record.get(own_attr)
        found_many = groups[(child, attr)].get(value, []) if isinstance(value, str | int | float) \
            else []
        for c in found_many:
            seen[id(c)] = target
        return list(found_many)

    return related
