"""The overlay's `jsonapi.resources` → Commerce Layer paths, parameters, links and errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .schemas import Schema, make_nullable, not_null, ref

_PREDICATES = ("not_eq", "gteq", "lteq", "eq", "in", "gt", "lt", "cont", "start", "end")


def camel(name: str) -> str:
    """snake_case → CamelCase (event_stores → EventStores)."""
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def _alternatives(names: Iterable[str]) -> str:
    return "(" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + ")"


def _csv_pattern(names: Iterable[str], sign: bool = False) -> str:
    """A comma-separated list of known names (optionally `-`-prefixed), anchored."""
    alt = ("-?" if sign else "") + _alternatives(names)
    return f"^{alt}(,{alt})*$"


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _errors(codes: Iterable[int]) -> Schema:
    return {str(c): ref("responses", f"ClError{c}") for c in codes}


def _filter_params(res: Mapping[str, Any], attrs: Schema, int_max: int) -> list[Schema]:
    """Explicit `filter[q][<attr>_<predicate>]` parameters typed by the attribute they filter."""
    out = []
    for flt in res.get("filters") or ():
        pred = next(p for p in _PREDICATES if flt.endswith("_" + p))
        attr = flt[: -len(pred) - 1]
        base = not_null(attrs["properties"][attr])
        base.pop("description", None)
        base.pop("default", None)
        if pred == "in":
            schema: Schema = (
                {"type": "string", "pattern": _csv_pattern(base["enum"])}
                if "enum" in base
                else {"type": "string", "minLength": 1}
            )
        elif base.get("type") == "integer":
            schema = {"type": "integer", "minimum": 0, "maximum": int_max}
        elif "enum" in base:
            schema = base
        elif base.get("format") == "date-time":
            # clients send bare dates too (notes: schemathesis_and_clients.md §B2 '2024-01-01')
            schema = {"type": "string", "minLength": 1, "maxLength": 64}
        else:
            schema = {"type": "string", "minLength": 1, "maxLength": 255}
        out.append(
            _query(
                f"filter[q][{flt}]",
                schema,
                f"Ransack predicate `{pred}` on `{attr}` (any other filter[q][...] works too).",
            )
        )
    return out


def _page_params() -> list[Schema]:
    return [ref("parameters", "PageNumber"), ref("parameters", "PageSize")]


def shared_parameters(cfg: Mapping[str, Any]) -> Schema:
    """components/parameters shared by every Commerce Layer list."""
    return {
        "PageNumber": _query(
            "page[number]",
            {"type": "integer", "minimum": 1, "maximum": int(cfg["page_number_max"]), "default": 1},
            "Page to return (1-based).",
        ),
        "PageSize": _query(
            "page[size]",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": int(cfg["page_size_max"]),
                "default": int(cfg["page_size_default"]),
            },
            "Records per page.",
        ),
    }


def _created(name: str, res: Mapping[str, Any], related: list[str]) -> Schema:
    """The 201 of a create, inline so that it can carry OpenAPI links (notes: §A3)."""
    id_param = str(res["id_param"])
    target = {id_param: "$response.body#/data/id"}
    links = {
        f"Get{name}": {"operationId": f"get{name}", "parameters": target},
        f"Update{name}": {"operationId": f"update{name}", "parameters": target},
        f"Delete{name}": {"operationId": f"delete{name}", "parameters": target},
    }
    for rel in related:
        links[f"List{name}{camel(rel)}"] = {
            "operationId": f"list{name}{camel(rel)}",
            "parameters": target,
        }
    required = {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "attributes": {
                        "type": "object",
                        "required": list(res.get("response_required") or ()),
                    }
                },
            }
        },
    }
    return {
        "description": f"The created {res['x-resource'][:-1]} (status at its default).",
        "content": {
            "application/vnd.api+json": {
                "schema": {"allOf": [ref("schemas", f"{name}Document"), required]}
            }
        },
        "links": links,
    }


def _body(name: str, media: str) -> Schema:
    return {"required": True, "content": {media: {"schema": ref("schemas", name)}}}


def _ok(description: str, media: str, schema: str) -> Schema:
    return {"description": description, "content": {media: {"schema": ref("schemas", schema)}}}


def resource_paths(
    name: str, resource: Schema, res: Mapping[str, Any], cfg: Mapping[str, Any]
) -> dict[str, Schema]:
    """Every path of one job resource: collection, member, related lists."""
    media = str(cfg["media_type"])
    errors: Mapping[str, list[int]] = cfg["errors"]
    rtype, tag, base = str(res["x-resource"]), [str(res["tag"])], str(res["path"])
    sec: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    attrs = resource["properties"]["attributes"]
    related = list(resource["properties"]["relationships"]["properties"])
    includable = [r for r in related if r not in (cfg.get("not_includable") or ())]
    fields = _query(
        f"fields[{rtype}]",
        {"type": "string", "pattern": _csv_pattern(attrs["properties"])},
        "Sparse fieldset: only these attributes.",
    )
    include = (
        [
            _query(
                "include",
                {"type": "string", "pattern": _csv_pattern(includable)},
                "Related resources to include.",
            )
        ]
        if includable
        else []
    )
    sort = _query(
        "sort",
        {"type": "string", "pattern": _csv_pattern(res["x-sortable"], sign=True)},
        "Comma-separated sort fields; `-` sorts descending.",
    )
    id_param = {
        "name": res["id_param"],
        "in": "path",
        "required": True,
        "description": f"The {rtype[:-1]} id.",
        "schema": {"type": "string", "minLength": 1},
    }
    out: dict[str, Schema] = {
        base: {
            "get": {
                "operationId": f"list{name}s",
                "tags": tag,
                "security": sec,
                "parameters": [
                    *_page_params(),
                    sort,
                    *include,
                    fields,
                    *_filter_params(res, attrs, int(cfg["integer_filter_max"])),
                ],
                "responses": {
                    "200": _ok(f"A page of {rtype}.", media, f"{name}List"),
                    **_errors(errors["list"]),
                },
            },
            "post": {
                "operationId": f"create{name}",
                "tags": tag,
                "security": sec,
                "requestBody": _body(f"{name}CreateDocument", media),
                "responses": {"201": _created(name, res, related), **_errors(errors["create"])},
            },
        },
        f"{base}/{{{res['id_param']}}}": {
            "parameters": [id_param],
            "get": {
                "operationId": f"get{name}",
                "tags": tag,
                "security": sec,
                "parameters": [*include, fields],
                "responses": {
                    "200": _ok(f"The {rtype[:-1]}.", media, f"{name}Document"),
                    **_errors(errors["get"]),
                },
            },
            "patch": {
                "operationId": f"update{name}",
                "tags": tag,
                "security": sec,
                "requestBody": _body(f"{name}UpdateDocument", media),
                "responses": {
                    "200": _ok(f"The updated {rtype[:-1]}.", media, f"{name}Document"),
                    **_errors(errors["update"]),
                },
            },
            "delete": {
                "operationId": f"delete{name}",
                "tags": tag,
                "security": sec,
                "responses": {
                    "204": {"description": "Deleted; no body."},
                    **_errors(errors["delete"]),
                },
            },
        },
    }
    # a read-only resource (`operations: [list, get]`) drops the writes
    member = f"{base}/{{{res['id_param']}}}"
    for op, (path, method) in {"create": (base, "post"), "update": (member, "patch"),
                               "delete": (member, "delete")}.items():
        if op not in (res.get("operations") or (op,)):
            del out[path][method]
    lists: Mapping[str, str] = cfg["relationship_lists"]
    for rel in related:
        out[f"{base}/{{{res['id_param']}}}/{rel}"] = {
            "parameters": [id_param],
            "get": {
                "operationId": f"list{name}{camel(rel)}",
                "tags": tag,
                "security": sec,
                "parameters": _page_params(),
                "responses": {
                    "200": _ok(f"The {rtype[:-1]}'s {rel}.", media, lists[rel]),
                    **_errors(errors["related"]),
                },
            },
        }
    return out


def records_path(cfg: Mapping[str, Any]) -> dict[str, Schema]:
    """GET /api/{resourceType}: the target records the jobs work on."""
    media = str(cfg["media_type"])
    rtype = {
        "name": "resourceType",
        "in": "path",
        "required": True,
        "description": "A resource type that imports, exports or cleanups work on.",
        "schema": {"type": "string", "enum": list(cfg["record_types"])},
    }
    sort = _query(
        "sort",
        {"type": "string", "pattern": "^-?[a-z_]{1,40}(,-?[a-z_]{1,40}){0,4}$"},
        "Comma-separated sort fields; `-` sorts descending.",
    )
    return {
        "/api/{resourceType}": {
            "get": {
                "operationId": "listRecords",
                "tags": ["records"],
                "security": [{"bearerAuth": []}],
                "parameters": [rtype, *_page_params(), sort],
                "responses": {
                    "200": _ok("A page of records.", media, "RecordList"),
                    **_errors(sorted({*cfg["errors"]["list"], 404})),
                },
            }
        },
        # where every record's links.self points (inferred: the vendor serves each resource by id)
        "/api/{resourceType}/{recordId}": {
            "get": {
                "operationId": "getRecord",
                "tags": ["records"],
                "security": [{"bearerAuth": []}],
                "parameters": [
                    rtype,
                    {"name": "recordId", "in": "path", "required": True,
                     "description": "The record's id.",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
                ],
                "responses": {
                    "200": _ok("One record.", media, "RecordDocument"),
                    **_errors(sorted({*cfg["errors"]["list"], 404})),
                },
            }
        },
    }


def error_responses(
    prefix: str, codes: Mapping[int, tuple[str, str]], media: str, schema: str
) -> Schema:
    """Reusable error responses `<prefix><code>`, one per status."""
    return {
        f"{prefix}{code}": {
            "description": f"{name}: {desc}" if desc else name,
            "content": {media: {"schema": ref("schemas", schema)}},
        }
        for code, (name, desc) in sorted(codes.items())
    }


__all__ = [
    "camel",
    "error_responses",
    "make_nullable",
    "records_path",
    "resource_paths",
    "shared_parameters",
]
