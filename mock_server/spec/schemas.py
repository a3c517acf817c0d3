"""Corrected field rows → JSON Schemas: nested trees, refinements, JSON:API documents."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from .corrections import OVERLAY, Corrected
from .tables import SpecSourceError

Schema = dict[str, Any]


def ref(kind: str, name: str) -> Schema:
    """A $ref to a component."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _container(node: Schema) -> Schema:
    """Where a node's children live: its own properties, or its items' for an array."""
    if node.get("type") == "array" or (
        isinstance(node.get("type"), list) and "array" in node["type"]
    ):
        node.setdefault("items", {"type": "object"})
        return node["items"]
    return node


def tree(rows: Iterable[Corrected]) -> Schema:
    """Dotted field rows → one object schema (a parent that is an array holds children in items)."""
    root: Schema = {"type": "object", "properties": {}}
    for c in rows:
        node = root
        for part in c.row.path[:-1]:
            props = _container(node).setdefault("properties", {})
            node = props.setdefault(part, {"type": "object", "properties": {}})
        props = _container(node).setdefault("properties", {})
        leaf = c.schema()
        old = props.get(c.row.path[-1])
        if old is not None:  # the parent was created implicitly by an earlier child row
            for key in ("properties", "items"):
                if key in old:
                    leaf[key] = old[key]
        props[c.row.path[-1]] = leaf
    return root


def at(schema: Schema, dotted: str, where: str) -> Schema:
    """The sub-schema of a dotted field path ('' is the schema itself)."""
    node = schema
    for part in [p for p in dotted.split(".") if p]:
        props = _container(node).get("properties", {})
        if part not in props:
            raise SpecSourceError(OVERLAY, 0, f"{where}: no field {dotted!r} to refine")
        node = props[part]
    return node


def deep_merge(base: Schema, extra: Mapping[str, Any]) -> None:
    """Merge `extra` into `base` in place (mappings merge, everything else replaces)."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def make_nullable(node: Schema) -> None:
    """Allow null: OpenAPI 3.1 type list, and null among the enum values if there is an enum."""
    types = node.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if "null" not in types:
        node["type"] = [*types, "null"]
    if "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]


def not_null(node: Schema) -> Schema:
    """A copy that no longer accepts null."""
    out = copy.deepcopy(node)
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        out["type"] = types[0] if len(types) == 1 else types
    if "enum" in out:
        out["enum"] = [v for v in out["enum"] if v is not None]
    return out


def refine(schema: Schema, spec: Mapping[str, Any], where: str) -> None:
    """Apply one overlay refinement block: merge, nullable, required and x- extensions."""
    for dotted, extra in (spec.get("merge") or {}).items():
        deep_merge(at(schema, str(dotted), where), extra)
    for dotted in spec.get("nullable") or ():
        make_nullable(at(schema, str(dotted), where))
    if "required" in spec:
        missing = [f for f in spec["required"] if f not in schema.get("properties", {})]
        if missing:
            raise SpecSourceError(OVERLAY, 0, f"{where}: required names unknown fields {missing}")
        schema["required"] = list(spec["required"])
    for key, value in spec.items():
        if key.startswith("x-"):
            schema[key] = copy.deepcopy(value)


# ---- JSON:API (Commerce Layer) ----------------------------------------------------------------


def _relationship(leaf: Schema) -> Schema:
    """A documented relationship (`array`) → JSON:API relationship object; data is the array."""
    data = {"type": "array", "items": ref("schemas", "ResourceIdentifier")}
    out: Schema = {"type": "object"}
    if "description" in leaf:
        out["description"] = leaf["description"]
    out["properties"] = {"links": ref("schemas", "RelationshipLinks"), "data": data}
    return out


def jsonapi_resource(
    name: str, rows: list[Corrected], res: Mapping[str, Any]
) -> tuple[Schema, Schema]:
    """The read schema of one job resource, and its write-only trigger attributes."""
    doc = tree(rows)
    props = doc["properties"]
    rtype = str(res["x-resource"])
    if "type" not in props or rtype not in props["type"].get("description", ""):
        raise SpecSourceError(
            OVERLAY, 0, f"{name}: the documents' `type` row does not say {rtype!r}"
        )
    props["type"] = {"type": "string", "const": rtype, "description": props["type"]["description"]}
    props["links"]["required"] = ["self"]
    props["links"]["properties"]["self"]["format"] = "uri"
    attrs = props["attributes"]
    triggers: Schema = {}
    for t in res.get("triggers") or ():
        if t not in attrs["properties"]:
            raise SpecSourceError(OVERLAY, 0, f"{name}: trigger {t!r} is not documented")
        triggers[t] = attrs["properties"].pop(t)  # write-only: never in the read attributes
    refine(attrs, {k: res[k] for k in ("merge", "nullable") if k in res}, name)
    status_field = res.get("x-status-field")  # jobs only: a webhook has no lifecycle
    if status_field is not None:
        status = attrs["properties"].get(status_field, {})
        if "enum" not in status or "default" not in status:
            raise SpecSourceError(OVERLAY, 0,
                                  f"{name}.{status_field}: documents give no enum/default")
    rels = props.setdefault("relationships", {"type": "object", "properties": {}})
    rels["properties"] = {k: _relationship(v) for k, v in rels.get("properties", {}).items()}
    meta = props["meta"]
    meta["required"] = ["mode"]
    # notes: commercelayer_api.md §3 Single-resource envelope — meta also carries organization_id
    meta["properties"]["organization_id"] = {"type": "string"}
    out: Schema = {
        "type": "object",
        "description": f"One {rtype[:-1]}{' job' if status_field else ''} as a JSON:API "
                       "resource object.",
        "x-resource": rtype,
        **({"x-status-field": status_field} if status_field else {}),
        **({"x-topics": dict(res["x-topics"])} if "x-topics" in res else {}),
        "x-filterable": list(res.get("x-filterable") or ()),
        "x-sortable": list(res.get("x-sortable") or ()),
        # attributes are not required one by one: fields[<type>] (sparse fieldsets) may drop any
        "required": ["id", "type", "links", "attributes", "meta"],
        "properties": props,
    }
    return out, triggers


def _write_attributes(
    read: Schema,
    triggers: Schema,
    names: Iterable[str],
    required: list[str],
    merge: Mapping[str, Any],
    where: str,
) -> Schema:
    props: Schema = {}
    for n in names:
        src = read["properties"].get(n, triggers.get(n))
        if src is None:
            raise SpecSourceError(OVERLAY, 0, f"{where}: {n!r} is not a documented attribute")
        props[n] = not_null(src) if n in required else copy.deepcopy(src)
    for n, extra in merge.items():
        deep_merge(props[n], extra)
    out: Schema = {"type": "object", "additionalProperties": False}
    if required:
        out["required"] = list(required)
    out["properties"] = props
    return out


def write_document(
    name: str, resource: Schema, triggers: Schema, res: Mapping[str, Any], kind: str
) -> Schema:
    """`<Name>CreateDocument` or `<Name>UpdateDocument` from the read attribute schemas."""
    attrs = resource["properties"]["attributes"]
    if kind == "create":
        body = _write_attributes(
            attrs,
            triggers,
            res.get("create") or (),
            list(res.get("create_required") or ()),
            res.get("create_merge") or {},
            f"{name}.create",
        )
    else:
        body = _write_attributes(
            attrs,
            triggers,
            [*(res.get("update") or ()), *(res.get("triggers") or ())],
            [],
            res.get("update_merge") or {},
            f"{name}.update",
        )
    for n in res.get("write_nullable") or ():  # null taken on write (stored as absent)
        if n in body["properties"]:
            make_nullable(body["properties"][n])
    data_props: Schema = {"type": {"type": "string", "const": res["x-resource"]}}
    if kind == "update":
        data_props["id"] = {"type": "string", "minLength": 1}
    data_props["attributes"] = body
    # notes: schemathesis_and_clients.md §B2 — the SDK always sends `relationships: {}`; the
    # vendor's spec (commercelayer_openapi_subset.json, derived 7.9.16) takes null too
    data_props["relationships"] = {"type": ["object", "null"]}
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "id", "attributes"]
                if kind == "update"
                else ["type", "attributes"],
                "properties": data_props,
            }
        },
    }


def document(name: str) -> Schema:
    """`{data: <Name>}`."""
    return {"type": "object", "required": ["data"], "properties": {"data": ref("schemas", name)}}


def list_document(name: str) -> Schema:
    """`{data: [<Name>], meta, links}`."""
    return {
        "type": "object",
        "required": ["data", "meta", "links"],
        "properties": {
            "data": {"type": "array", "items": ref("schemas", name)},
            "meta": ref("schemas", "ListMeta"),
            "links": ref("schemas", "ListLinks"),
        },
    }
