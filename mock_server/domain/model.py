"""ResourceType per job type, read from the spec's components: no field list is written here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..spec.load import Spec
from .lifecycle import LIFECYCLES, Lifecycle

# Job resource schemas and their create/update documents, by the names fixed in ARCHITECTURE.md.
JOB_SCHEMAS = {
    "imports": ("Import", "ImportCreateDocument", "ImportUpdateDocument"),
    "exports": ("Export", "ExportCreateDocument", "ExportUpdateDocument"),
    "cleanups": ("Cleanup", "CleanupCreateDocument", "CleanupUpdateDocument"),
}
# Flat (non-JSON:API) job schemas: the fields sit at the top level; create body; JSON Patch body.
FLAT_JOB_SCHEMAS = {
    "rackspace_cleanups": ("RackspaceCleanup", "RackspaceCleanupCreate", "RackspaceCleanupPatch"),
}


class SpecMismatch(RuntimeError):
    """The spec and the code disagree (a status, schema or extension is missing)."""


@dataclass(frozen=True, slots=True)
class ResourceType:
    """What the spec says about one job type: fields, enums, capabilities."""

    name: str
    schema_name: str
    status_field: str
    statuses: tuple[str, ...]
    initial_status: str
    attributes: tuple[str, ...]
    object_attributes: frozenset[str]  # rendered {} rather than null
    filterable: frozenset[str]
    sortable: frozenset[str]
    creatable: tuple[str, ...]
    updatable: tuple[str, ...]
    triggers: tuple[str, ...]
    relationships: tuple[str, ...]
    lifecycle: Lifecycle

    @property
    def terminal(self) -> frozenset[str]:
        """Statuses that never change again."""
        return self.lifecycle.terminal


def _props(spec: Spec, node: Any, *path: str) -> Mapping[str, Any]:
    node = spec.resolve(node)
    for key in path:
        node = spec.resolve(node.get("properties", {}).get(key, {}))
    return {k: spec.resolve(v) for k, v in node.get("properties", {}).items()}


def _types(schema: Mapping[str, Any]) -> set[str]:
    t = schema.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _check_lifecycle(name: str, lc: Lifecycle, statuses: tuple[str, ...]) -> None:
    missing = [s for s in lc.statuses if s not in statuses]
    if missing:
        raise SpecMismatch(f"{name}: lifecycle statuses {missing} are not in the spec enum {statuses}")


def _writable(spec: Spec, doc_name: str) -> tuple[str, ...]:
    return tuple(_props(spec, spec.schema(doc_name), "data", "attributes"))


def load_types(spec: Spec) -> dict[str, ResourceType]:
    """Every job type the spec declares, checked against the lifecycle tables."""
    out: dict[str, ResourceType] = {}
    for name, (schema_name, create_doc, update_doc) in JOB_SCHEMAS.items():
        schema = spec.schema(schema_name)
        updatable = _writable(spec, update_doc)
        out[name] = _resource_type(
            spec, name, schema_name, _props(spec, schema, "attributes"),
            creatable=_writable(spec, create_doc),
            updatable=tuple(a for a in updatable if not a.startswith("_")),
            triggers=tuple(a for a in updatable if a.startswith("_")),
            relationships=tuple(_props(spec, schema, "relationships")),
            where=f"{schema_name}.attributes")
    for name, names in FLAT_JOB_SCHEMAS.items():
        out[name] = _flat_type(spec, name, *names)
    return out


def _flat_type(spec: Spec, name: str, schema_name: str, create: str, patch: str) -> ResourceType:
    """A job type whose fields sit at the top level and whose updates are JSON Patch paths."""
    op_schema = spec.resolve(spec.schema(patch).get("items", {}))
    paths = spec.resolve(op_schema.get("properties", {}).get("path", {})).get("enum", ())
    return _resource_type(
        spec, name, schema_name, _props(spec, spec.schema(schema_name)),
        creatable=tuple(_props(spec, spec.schema(create))),
        updatable=tuple(p.lstrip("/") for p in paths), triggers=(), relationships=(),
        where=schema_name)


def _resource_type(spec: Spec, name: str, schema_name: str, fields: Mapping[str, Any], *,
                   creatable: tuple[str, ...], updatable: tuple[str, ...],
                   triggers: tuple[str, ...], relationships: tuple[str, ...],
                   where: str) -> ResourceType:
    """A job type from its read fields, its status enum checked against its lifecycle."""
    schema = spec.schema(schema_name)
    status_field = schema.get("x-status-field", "status")
    status = fields.get(status_field, {})
    statuses = tuple(status.get("enum", ()))
    if not statuses:
        raise SpecMismatch(f"{where}.{status_field} has no enum")
    lc = LIFECYCLES[name]
    _check_lifecycle(schema_name, lc, statuses)
    return ResourceType(
        name=name,
        schema_name=schema_name,
        status_field=status_field,
        statuses=statuses,
        initial_status=status.get("default", statuses[0]),
        attributes=tuple(fields),
        object_attributes=frozenset(k for k, v in fields.items() if _types(v) == {"object"}),
        filterable=frozenset(schema.get("x-filterable", ())),
        sortable=frozenset(schema.get("x-sortable", ())),
        creatable=creatable,
        updatable=updatable,
        triggers=triggers,
        relationships=relationships,
        lifecycle=lc,
    )
