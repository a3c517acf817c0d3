"""The catalog of target record types (data/record_types.yaml) as frozen values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "datetime"})


class CatalogError(ValueError):
    """The catalog file contradicts itself (unknown type, key or attribute)."""


@dataclass(frozen=True, slots=True)
class RecordType:
    """One kind of target record: attributes, keys, relationships and what jobs may do with it."""

    name: str
    attributes: dict[str, str]  # attribute -> json type, in catalog order
    required: tuple[str, ...]
    unique_key: tuple[str, ...]
    relationships: dict[str, str]  # relationship -> target type (to-one and to-many)
    foreign_keys: dict[str, tuple[str, str]]  # to-one relationship -> (own attr, target attr)
    must_exist: tuple[str, ...]  # to-one relationships whose key must point at a record
    importable: bool
    exportable: bool
    cleanable: bool
    cascades: tuple[str, ...]
    identifier: str
    parent: str | None  # attribute set from an import's parent_resource_id
    enums: dict[str, tuple[str, ...]]
    fakes: dict[str, str]  # attribute -> generator name in fake.py
    sample: int  # records a fresh tenant gets

    def is_to_one(self, rel: str) -> bool:
        """Whether `rel` is stored on this record as a key (belongs-to)."""
        return rel in self.foreign_keys

    def relationship_of(self, attribute: str) -> str | None:
        """The to-one relationship stored in `attribute`, if any."""
        for rel, (attr, _) in self.foreign_keys.items():
            if attr == attribute:
                return rel
        return None


@dataclass(frozen=True, slots=True)
class Catalog:
    """All record types plus the three job type lists, checked for consistency."""

    types: dict[str, RecordType]

    def __getitem__(self, name: str) -> RecordType:
        try:
            return self.types[name]
        except KeyError:
            raise KeyError(f"unknown record type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def __iter__(self) -> Iterator[RecordType]:
        return iter(self.types.values())

    def names(self, *, importable: bool = False, exportable: bool = False,
              cleanable: bool = False) -> tuple[str, ...]:
        """Type names, optionally only those a job kind accepts."""
        return tuple(
            t.name for t in self
            if (not importable or t.importable) and (not exportable or t.exportable)
            and (not cleanable or t.cleanable)
        )

    def inverse(self, rtype: RecordType, rel: str) -> tuple[str, str, str]:
        """For a to-many `rel`: (child type, child key attr, own attr it matches)."""
        child = self[rtype.relationships[rel]]
        for child_rel, (attr, target_attr) in child.foreign_keys.items():
            if child.relationships[child_rel] == rtype.name:
                return child.name, attr, target_attr
        raise CatalogError(f"{rtype.name}.{rel}: {child.name} has no key pointing back")

    def dependency_order(self) -> tuple[str, ...]:
        """Type names with every to-one target before the types pointing at it."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = visiting, 2 = done

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise CatalogError(f"relationship cycle: {' -> '.join((*path, name))}")
            state[name] = 1
            rtype = self.types[name]
            for rel in rtype.foreign_keys:
                target = rtype.relationships[rel]
                if target != name:  # a self-reference needs no ordering
                    visit(target, (*path, name))
            state[name] = 2
            order.append(name)

        for name in self.types:
            visit(name, ())
        return tuple(order)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalog:
        """Read the packaged catalog (or `path`) and check it."""
        if path is None:
            text = resources.files("mock_server").joinpath("data/record_types.yaml").read_text(
                encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(text))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Catalog:
        """Build from the parsed YAML document."""
        lists = {k: tuple(raw.get(f"{k}_types", ())) for k in ("import", "export", "cleanup")}
        types = {
            name: _record_type(name, spec or {}, lists)
            for name, spec in (raw.get("types") or {}).items()
        }
        for kind, names in lists.items():
            unknown = sorted(set(names) - set(types))
            if unknown:
                raise CatalogError(f"{kind}_types lists types without an entry: {unknown}")
        catalog = cls(types)
        for rtype in catalog:
            _check_refs(catalog, rtype)
        catalog.dependency_order()
        return catalog


def _record_type(name: str, spec: Mapping[str, Any], lists: Mapping[str, tuple[str, ...]]
                 ) -> RecordType:
    attributes = {str(k): str(v) for k, v in (spec.get("attributes") or {}).items()}
    bad = {k: v for k, v in attributes.items() if v not in JSON_TYPES}
    if bad:
        raise CatalogError(f"{name}: unknown json types {bad}")
    relationships: dict[str, str] = {}
    foreign_keys: dict[str, tuple[str, str]] = {}
    must_exist: list[str] = []
    for rel, rspec in (spec.get("relationships") or {}).items():
        relationships[rel] = str(rspec["type"])
        if "key" in rspec:
            foreign_keys[rel] = (str(rspec["key"]), str(rspec.get("target_key", "id")))
            if rspec.get("must_exist"):
                must_exist.append(rel)
    return RecordType(
        name=name,
        attributes=attributes,
        required=tuple(spec.get("required") or ()),
        unique_key=tuple(spec.get("unique_key") or ()),
        relationships=relationships,
        foreign_keys=foreign_keys,
        must_exist=tuple(must_exist),
        importable=name in lists["import"],
        exportable=name in lists["export"],
        cleanable=name in lists["cleanup"],
        cascades=tuple(spec.get("cascades") or ()),
        identifier=str(spec.get("identifier") or "id"),
        parent=spec.get("parent"),
        enums={k: tuple(v) for k, v in (spec.get("enums") or {}).items()},
        fakes={str(k): str(v) for k, v in (spec.get("fake") or {}).items()},
        sample=int(spec.get("sample", 0)),
    )


def _check_refs(catalog: Catalog, rtype: RecordType) -> None:
    """Every name the entry mentions must exist, so typos fail at load, not mid-job."""
    own = set(rtype.attributes) | {"id"}
    named = [*rtype.required, *rtype.unique_key, rtype.identifier, *rtype.enums,
             *rtype.fakes] + ([rtype.parent] if rtype.parent else [])
    missing = sorted({a for a in named if a not in own})
    if missing:
        raise CatalogError(f"{rtype.name}: unknown attributes {missing}")
    for rel, target in rtype.relationships.items():
        if target not in catalog:
            raise CatalogError(f"{rtype.name}.{rel}: unknown type {target!r}")
        if rel in rtype.foreign_keys:
            attr, target_attr = rtype.foreign_keys[rel]
            if attr not in rtype.attributes:
                raise CatalogError(f"{rtype.name}.{rel}: key {attr!r} is not an attribute")
            if target_attr != "id" and target_attr not in catalog[target].attributes:
                raise CatalogError(f"{rtype.name}.{rel}: {target}.{target_attr} does not exist")
        else:
            catalog.inverse(rtype, rel)
    for child in rtype.cascades:
        if child not in catalog:
            raise CatalogError(f"{rtype.name}: cascades to unknown type {child!r}")
        if rtype.name not in {catalog[child].relationships[r] for r in catalog[child].foreign_keys}:
            raise CatalogError(f"{rtype.name}: cascade type {child} has no key pointing back")
