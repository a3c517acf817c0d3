"""RecordStore: a tenant's target records, upserted by imports, read by exports, cut by cleanups."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .catalog import Catalog, RecordType
from .fake import DEFAULT_EPOCH, generate_org, id_sequence, record_id

Record = dict[str, Any]
Records = list[Record]  # module alias: inside the class `list` names the method
Predicate = Callable[[Mapping[str, Any]], bool]
Related = Callable[[str, Mapping[str, Any]], "Record | Records | None"]
Removed = list[tuple[str, str]]  # (type, id) of each deleted record, cascades included
_Key = tuple[Any, ...]


UNLOOKED: Any = object()  # upsert, validate_item: the record an item updates is not looked up yet


class DuplicateKey(ValueError):
    """An update would give a record the unique key of another one."""


def _copy(record: Mapping[str, Any]) -> Record:
    # Records are flat apart from metadata/options: copy only the containers, cheaper than deepcopy.
    return {k: copy.deepcopy(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}


def _key(rtype: RecordType, values: Mapping[str, Any]) -> _Key | None:
    """The unique-key tuple of a record or item, None when the type has none or a part is blank."""
    if not rtype.unique_key:
        return None
    key = tuple([values.get(a) for a in rtype.unique_key])
    for value in key:
        if not _keyable(value):
            return None
    return key


def _keyable(value: Any) -> bool:
    """Only non-blank scalars identify records (and a list or dict cannot be a dict key)."""
    return isinstance(value, (str, int, float)) and value != ""


def _show(rtype: RecordType, key: _Key) -> dict[str, Any]:
    return dict(zip(rtype.unique_key, key, strict=True))


class RecordStore:
    """Target records of one tenant: type -> id -> record (plain dicts, insertion-ordered)."""

    __slots__ = ("catalog", "seed", "tenant", "_data", "_keys", "_counter", "dirty")

    def __init__(self, catalog: Catalog, *, seed: int = 0, tenant: str = "") -> None:
        self.catalog = catalog
        self.seed = seed
        self.tenant = tenant
        self._data: dict[str, dict[str, Record]] = {}
        self._keys: dict[str, dict[_Key, str]] = {}  # type -> unique key -> id
        self._counter = 0
        # A durable store's: (type, id) of each record changed since it last looked, in order
        # (None while nobody keeps them); ("*", "") when every record was dropped.
        self.dirty: dict[tuple[str, str], None] | None = None

    @classmethod
    def generated(cls, catalog: Catalog, seed: int, tenant: str, *,
                  epoch: float = DEFAULT_EPOCH, counts: Mapping[str, int] | None = None
                  ) -> RecordStore:
        """A store holding the tenant's fake organization (fake.generate_org)."""
        store = cls(catalog, seed=seed, tenant=tenant)
        for name, records in generate_org(catalog, seed, tenant, epoch=epoch,
                                          counts=counts).items():
            store.load(name, records)
        return store

    def load(self, rtype: str, records: Iterable[Record]) -> None:
        """Insert records as given (ids included), e.g. generated ones or a persisted snapshot.
        The objects are kept, not copied: stores may share them, as every write replaces a
        record rather than changing it (upsert)."""
        rt = self.catalog[rtype]
        table = self._data.setdefault(rtype, {})
        keys = self._keys.setdefault(rtype, {})
        for record in records:
            table[record["id"]] = record
            if self.dirty is not None:
                self.dirty[(rtype, record["id"])] = None
            key = _key(rt, record)
            if key is not None:
                keys[key] = record["id"]
            self._counter = max(self._counter, id_sequence(record["id"]))

    def put(self, rtype: str, record: Record) -> None:
        """Store a record as given, replacing the one with its id (a shared store's copy)."""
        rt = self.catalog[rtype]
        table = self._table(rtype)
        keys = self._keys.setdefault(rtype, {})
        old = table.get(record["id"])
        if old is not None:
            old_key = _key(rt, old)
            if old_key is not None and keys.get(old_key) == old["id"]:
                del keys[old_key]
        table[record["id"]] = record
        key = _key(rt, record)
        if key is not None:
            keys[key] = record["id"]
        self._counter = max(self._counter, id_sequence(record["id"]))

    def save(self, rtype: str, record: Record) -> None:
        """Store a record as given (a webhook, an event callback), noted for a durable store."""
        self.put(rtype, record)
        if self.dirty is not None:
            self.dirty[(rtype, record["id"])] = None

    def drop(self, rtype: str, rid: str) -> None:
        """Forget one record as a shared store's copy says (no cascade: its rows say so too)."""
        rt = self.catalog[rtype]
        record = self._data.get(rtype, {}).pop(rid, None)
        if record is not None:
            key = _key(rt, record)
            keys = self._keys.get(rtype, {})
            if key is not None and keys.get(key) == rid:
                del keys[key]

    @property
    def counter(self) -> int:
        """How many record ids this store made (a durable store keeps it)."""
        return self._counter

    @counter.setter
    def counter(self, value: int) -> None:
        self._counter = max(self._counter, value)

    def new_id(self, rtype: str) -> str:
        """A fresh id that sorts after every id this store has seen (sort=id = creation order)."""
        table = self._data.get(rtype, {})
        while True:
            self._counter += 1
            rid = record_id(self._counter, self.seed, self.tenant, "store")
            if rid not in table:
                return rid

    def _table(self, rtype: str) -> dict[str, Record]:
        """The id -> record dict of a type; unknown types fail loudly rather than look empty."""
        if rtype not in self.catalog:
            raise KeyError(f"unknown record type {rtype!r}")
        return self._data.setdefault(rtype, {})

    def types(self) -> tuple[str, ...]:
        """Types that hold at least one record."""
        return tuple(name for name, table in self._data.items() if table)

    def list(self, rtype: str) -> Records:
        """The stored records of a type in insertion order; callers must not mutate them."""
        return list(self._table(rtype).values())

    def get(self, rtype: str, rid: str) -> Record | None:
        """One stored record by id."""
        return self._table(rtype).get(rid)

    def find(self, rtype: str, attr: str, value: Any) -> Record | None:
        """The first record whose `attr` equals `value` (indexed for id and one-part keys)."""
        rt = self.catalog[rtype]
        if not _keyable(value):
            return None
        if attr == "id":
            return self.get(rtype, value)
        if rt.unique_key == (attr,):
            rid = self._keys.get(rtype, {}).get((value,))
            return None if rid is None else self.get(rtype, rid)
        return next((r for r in self._data.get(rtype, {}).values() if r.get(attr) == value), None)

    def lookup(self, rtype: str, item: Mapping[str, Any]) -> Record | None:
        """The record an import item would update: matched by `id`, else by the unique key."""
        rid = item.get("id")
        if isinstance(rid, str) and rid in self._data.get(rtype, {}):
            return self._data[rtype][rid]
        key = _key(self.catalog[rtype], item)
        found = None if key is None else self._keys.get(rtype, {}).get(key)
        return None if found is None else self._data[rtype][found]

    def key_owner(self, rtype: str, values: Mapping[str, Any]) -> str | None:
        """Id of the record that holds the unique key `values` carry, if any."""
        key = _key(self.catalog[rtype], values)
        return None if key is None else self._keys.get(rtype, {}).get(key)

    def upsert(self, rtype: str, item: Mapping[str, Any], now_iso: str, existing: Any = UNLOOKED
               ) -> tuple[Record, bool]:
        """Create or update from an import item (unknown keys ignored): (record, created);
        `existing`: the record `lookup` gives for the item, when the caller has it."""
        rt = self.catalog[rtype]
        known = rt.attributes
        values = {a: copy.deepcopy(v) if isinstance(v, (dict, list)) else v
                  for a, v in item.items() if a in known}
        if existing is UNLOOKED:
            existing = self.lookup(rtype, item)
        keys = self._keys.setdefault(rtype, {})
        if existing is not None:
            rid = existing["id"]
            # a new dict, never the stored one changed in place: a new tenant's records are the
            # fixture's own objects, shared until one is written (load); records are never
            # changed in place, so the new one may share the old one's containers
            record = {**existing, **values, "updated_at": now_iso}
            old, new = _key(rt, existing), _key(rt, record)
            if new is not None and new != old and keys.get(new, rid) != rid:
                raise DuplicateKey(f"{rtype}: {_show(rt, new)} is already taken")
            self._data[rtype][rid] = record
            if self.dirty is not None:
                self.dirty[(rtype, rid)] = None
            if old != new:
                if old is not None:
                    keys.pop(old, None)
                if new is not None:
                    keys[new] = rid
            return record, False
        table = self._table(rtype)
        given = item.get("id")
        rid = given if isinstance(given, str) and given else self.new_id(rtype)
        # Every catalog attribute is present so exports and CSV columns have one shape.
        record: Record = {"id": rid, "type": rtype}
        for attr, json_type in rt.attributes.items():
            default: Any = {} if json_type == "object" else None
            record[attr] = values[attr] if attr in values else default
        record["created_at"] = record["updated_at"] = now_iso
        key = _key(rt, record)
        if key is not None:
            if key in keys:
                raise DuplicateKey(f"{rtype}: {_show(rt, key)} is already taken")
            keys[key] = rid
        table[rid] = record
        if self.dirty is not None:
            self.dirty[(rtype, rid)] = None
        return record, True

    def delete(self, rtype: str, rid: str) -> Removed:
        """Delete one record and its cascaded associated records (§1.4); [] if it is missing."""
        return self.delete_many(rtype, [rid])

    def delete_many(self, rtype: str, ids: Iterable[str]) -> Removed:
        """Delete records and, one scan per cascaded type, everything that hangs off them."""
        rt = self.catalog[rtype]
        table = self._data.get(rtype, {})
        keys = self._keys.get(rtype, {})
        victims: list[Record] = []
        for rid in ids:
            record = table.pop(rid, None)
            if record is None:
                continue
            victims.append(record)
            if self.dirty is not None:
                self.dirty[(rtype, rid)] = None
            key = _key(rt, record)
            if key is not None and keys.get(key) == rid:
                del keys[key]
        removed: Removed = [(rtype, r["id"]) for r in victims]
        for child in rt.cascades:
            crt = self.catalog[child]
            for rel, (attr, target_attr) in crt.foreign_keys.items():
                if crt.relationships[rel] != rtype:
                    continue
                gone = {r.get(target_attr) for r in victims} - {None}
                child_ids = [cid for cid, c in self._data.get(child, {}).items()
                             if c.get(attr) in gone]
                removed.extend(self.delete_many(child, child_ids))
        return removed

    def count(self, rtype: str, predicate: Predicate | None = None) -> int:
        """How many records of a type match (all when no predicate)."""
        records = self._table(rtype).values()
        return len(records) if predicate is None else sum(1 for r in records if predicate(r))

    def select(self, rtype: str, predicate: Predicate | None = None) -> Records:
        """Matching stored records (live, not copies), in insertion order."""
        records = self.list(rtype)
        return records if predicate is None else [r for r in records if predicate(r)]

    def snapshot(self, rtype: str, predicate: Predicate | None = None) -> Records:
        """Deep copies of the matching records: an export's data as it was at creation."""
        return [_copy(r) for r in self.select(rtype, predicate)]

    def clear(self) -> None:
        """Forget every record (the id counter keeps counting, so ids are never reused)."""
        self._data.clear()
        self._keys.clear()
        if self.dirty is not None:
            self.dirty[("*", "")] = None
