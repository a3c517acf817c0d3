"""The generated spec: every documented field in place, overlay rules applied, errors reported."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mock_server.spec import generate
from mock_server.spec.describe import enum_of
from mock_server.spec.tables import FieldRow, parse_dir

JSON_TYPE = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "datetime": "string",
}
ARCHITECTURE_OPS = {
    "getRecord",
    "listWebhooks",
    "createWebhook",
    "getWebhook",
    "updateWebhook",
    "deleteWebhook",
    "listWebhookLastEventCallbacks",
    "listEventCallbacks",
    "getEventCallback",
    "listEventCallbackWebhook",
    "listImports",
    "createImport",
    "getImport",
    "updateImport",
    "deleteImport",
    "listImportEvents",
    "listImportEventStores",
    "listExports",
    "createExport",
    "getExport",
    "updateExport",
    "deleteExport",
    "listExportEvents",
    "listExportEventStores",
    "listExportVersions",
    "listCleanups",
    "createCleanup",
    "getCleanup",
    "updateCleanup",
    "deleteCleanup",
    "listCleanupEvents",
    "listCleanupEventStores",
    "listCleanupVersions",
    "listRecords",
    "createToken",
    "getApplication",
    "rsListCleanups",
    "rsCreateCleanup",
    "rsGetCleanup",
    "rsUpdateCleanup",
    "rsGetCleanupErrors",
    "rsListCleanupEvents",
    "rsListAgents",
    "rsGetAgent",
}
METHODS = ("get", "put", "post", "patch", "delete")


@cache
def _spec() -> dict[str, Any]:
    return generate.build().spec


@cache
def _overlay() -> dict[str, Any]:
    return yaml.safe_load(generate.OVERLAY_PATH.read_text(encoding="utf-8"))


def _resolve(node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        cur: Any = _spec()
        for part in node["$ref"].lstrip("#/").split("/"):
            cur = cur[part]
        node = cur
    return node


def _types(node: Mapping[str, Any]) -> set[str]:
    t = node.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _walk(node: Any, path: tuple[str, ...]) -> Any:
    """Follow dotted field names through properties, array items and $refs."""
    for part in path:
        node = _resolve(node)
        if "array" in _types(node):
            node = _resolve(node["items"])
        node = node["properties"][part]
    return _resolve(node)


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in _spec()["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _expected(row: FieldRow) -> tuple[str, list[str]]:
    """The row's type and enum after the overlay's corrections (read straight from the YAML)."""
    typ, values = row.type, enum_of(row.description)[0]
    for fix in _overlay()["corrections"]:
        if fix["source"] == row.source and fix.get("field") == row.name:
            typ = fix.get("type", typ)
            values = [fix.get("rename_enum", {}).get(v, v) for v in values]
    return typ, values


def _node_for(row: FieldRow) -> Any:
    """Where a documented row must appear in the spec, by the overlay's `sources` mapping."""
    src = _overlay()["sources"][row.source]
    comps = _spec()["components"]
    if "schema" in src:
        name = src["schema"]
        res = _overlay()["jsonapi"]["resources"][name]
        if row.path[0] == "attributes" and row.path[1] in res.get("triggers", ()):
            assert (
                row.path[1] not in comps["schemas"][name]["properties"]["attributes"]["properties"]
            )
            return _walk(comps["schemas"][f"{name}UpdateDocument"], ("data", *row.path))
        if row.path[0] == "relationships":
            return _walk(comps["schemas"][name], (*row.path, "data"))
        return _walk(comps["schemas"][name], row.path)
    for key, tcfg in src["tables"].items():
        if key.lower() in row.table.lower():
            if "parameters" in tcfg:
                param = comps["parameters"][tcfg["prefix"] + generate.camel(row.name)]
                assert (param["name"], param["in"]) == (row.name, tcfg["parameters"])
                return param["schema"]
            return _walk(comps["schemas"][tcfg["schema"]], row.path)
    raise AssertionError(f"{row.source}:{row.line}: table {row.table!r} is not mapped")


def _all_rows() -> list[FieldRow]:
    return [r for doc in parse_dir(generate.DOCS).values() for r in doc.fields]


@pytest.mark.parametrize("row", _all_rows(), ids=lambda r: f"{r.source[:3]}:{r.name}")
def test_every_documented_field_is_in_the_spec(row: FieldRow) -> None:
    node = _node_for(row)
    typ, values = _expected(row)
    if row.path == ("type",) and "const" in node:
        assert node["const"] in row.description
        return
    assert JSON_TYPE[typ.lower()] in _types(node), f"{row.source}:{row.line} {row.name}"
    if typ.lower() == "datetime":
        assert node["format"] == "date-time"
    if values:
        assert [v for v in node["enum"] if v is not None] == values


def test_every_added_field_is_in_the_spec() -> None:
    for fix in _overlay()["corrections"]:
        if "add" in fix:
            add = fix["add"]
            row = FieldRow(
                tuple(add["field"].split(".")),
                add["type"],
                add.get("description", ""),
                fix["source"],
                0,
            )
            assert JSON_TYPE[add["type"]] in _types(_node_for(row))


def test_operation_ids_are_the_fixed_set_plus_admin() -> None:
    ops = {op["operationId"]: (path, op) for path, _, op in _operations()}
    assert ARCHITECTURE_OPS <= set(ops)
    for op_id, (path, op) in ops.items():
        if op_id in ARCHITECTURE_OPS:
            continue
        alias = op_id.removesuffix("NoProject")
        # beyond the fixed set: admin operations under /_mock/, Rackspace paths without
        # {project_id} (the docs say both work), and the mock's own file downloads
        assert (path.startswith("/_mock/") and op.get("tags") == ["admin"]) or (
            alias != op_id and alias in ARCHITECTURE_OPS) or op.get("tags") == ["files"], op_id
    health = _spec()["paths"]["/_mock/health"]["get"]
    assert (health["operationId"], health["tags"]) == ("adminHealth", ["admin"])


def test_spec_is_valid_openapi_31() -> None:
    from openapi_spec_validator import validate

    assert _spec()["openapi"] == "3.1.0"
    validate(_spec())


def test_every_ref_resolves() -> None:
    text = yaml.safe_dump(_spec())
    for target in set(re.findall(r"\$ref: '?(#/[^'\s]+)", text)):
        assert _resolve({"$ref": target}) is not None


@pytest.mark.parametrize("name", ["Import", "Export", "Cleanup", "RackspaceCleanup"])
def test_job_schemas_carry_the_server_extensions(name: str) -> None:
    schema = _spec()["components"]["schemas"][name]
    for key in ("x-resource", "x-filterable", "x-sortable", "x-status-field"):
        assert key in schema
    field = schema["x-status-field"]
    holder = schema["properties"].get("attributes", schema)["properties"][field]
    assert holder["enum"]
    if name != "RackspaceCleanup":
        assert holder["default"] == "pending" and "interrputed" not in holder["description"]


@pytest.mark.parametrize("name", ["Import", "Export", "Cleanup"])
def test_write_documents(name: str) -> None:
    schemas = _spec()["components"]["schemas"]
    res = _overlay()["jsonapi"]["resources"][name]
    read = schemas[name]["properties"]["attributes"]["properties"]
    for kind, names in (("Create", res["create"]), ("Update", [*res["update"], *res["triggers"]])):
        data = schemas[f"{name}{kind}Document"]["properties"]["data"]
        assert data["properties"]["type"]["const"] == res["x-resource"]
        assert data["properties"]["relationships"] == {"type": ["object", "null"]}  # the vendor takes null
        attrs = data["properties"]["attributes"]
        assert attrs["additionalProperties"] is False
        assert list(attrs["properties"]) == names
        for n in names:  # types come from the documents, not the overlay
            if n in read:
                assert _types(attrs["properties"][n]) - {"null"} == _types(read[n]) - {"null"}
    for trigger in res["triggers"]:
        assert trigger not in read


def _validator(schema_name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(_spec(), default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:spec#/components/schemas/{schema_name}"}, registry=registry
    )


def test_documents_accept_what_the_sdk_sends_and_reject_unknown_attributes() -> None:
    create = _validator("ImportCreateDocument")
    sdk = {
        "data": {
            "type": "imports",
            "relationships": {},
            "attributes": {
                "resource_type": "skus",
                "format": "json",
                "inputs": [{"code": "SKU1"}],
                "reference": "r1",
            },
        }
    }
    assert create.is_valid(sdk)
    csv = {
        "data": {
            "type": "imports",
            "attributes": {"resource_type": "skus", "format": "csv", "inputs": "code,name\nSKU1,A"},
        }
    }
    assert create.is_valid(csv)
    sdk["data"]["attributes"]["bogus"] = 1
    assert not create.is_valid(sdk)
    assert not create.is_valid(
        {"data": {"type": "exports", "attributes": {"resource_type": "skus", "inputs": [{}]}}}
    )
    update = _validator("ExportUpdateDocument")
    assert update.is_valid(
        {
            "data": {
                "type": "exports",
                "id": "x",
                "relationships": {},
                "attributes": {"_interrupt": True},
            }
        }
    )
    assert not update.is_valid(
        {"data": {"type": "exports", "id": "x", "attributes": {"resource_type": "skus"}}}
    )


def test_create_responses_are_inline_and_link_to_every_member_operation() -> None:
    ids = {op["operationId"]: (path, op) for path, _, op in _operations()}
    for path, method, op in _operations():
        for status, resp in op["responses"].items():
            assert not ("$ref" in resp and "links" in resp), f"{method} {path} {status}"
        if method == "post" and "201" in op["responses"] and path.startswith("/api/"):
            links = op["responses"]["201"]["links"]
            name = op["operationId"].removeprefix("create")
            targets = {link["operationId"] for link in links.values()}
            expected = {
                oid
                for oid, (p, _) in ids.items()
                if p.startswith(path + "/") and oid != f"list{name}s"
            }
            assert targets == expected
            for link in links.values():
                target_path, _ = ids[link["operationId"]]
                assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target_path))


def test_error_statuses_are_declared_per_operation() -> None:
    rs_documented = {
        s.code
        for s in parse_dir(generate.DOCS)["002_9a41a57ea0a09dce.txt"].statuses
        if s.code >= 400
    }
    for path, method, op in _operations():
        declared = {int(c) for c in op["responses"]}
        assert "default" not in op["responses"]
        if path.startswith("/api/"):
            assert {401, 406} <= declared, f"{method} {path}"
            if "requestBody" in op:
                assert {400, 415, 422} <= declared
            if "{" in path:
                assert 404 in declared
        if path.startswith("/v2/"):
            assert rs_documented | {406, 429} <= declared, f"{method} {path}"
            for code in declared - {200, 201, 204}:
                body = _resolve(op["responses"][str(code)])["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/RackspaceError"}


def test_integer_parameters_are_bounded() -> None:
    for path, method, op in _operations():
        params = [*_spec()["paths"][path].get("parameters", []), *op.get("parameters", [])]
        for p in map(_resolve, params):
            schema = p["schema"]
            if "integer" in _types(schema):
                assert "maximum" in schema and "minimum" in schema, f"{method} {path} {p['name']}"
    size = _spec()["components"]["parameters"]["PageSize"]["schema"]
    assert (size["minimum"], size["maximum"]) == (1, 25)


def test_rackspace_patch_and_create() -> None:
    item = _spec()["paths"]["/v2/{project_id}/cleanups/{cleanup_id}"]
    assert set(item["patch"]["requestBody"]["content"]) == {
        "application/json-patch+json",
        "application/json",
    }
    assert "204" in item["patch"]["responses"] and "409" in item["patch"]["responses"]
    created = _spec()["paths"]["/v2/{project_id}/cleanups"]["post"]["responses"]["201"]
    assert created["headers"]["Location"]["required"] is True
    sort_dir = _spec()["components"]["parameters"]["RsSortDir"]["schema"]
    assert (sort_dir["enum"], sort_dir["default"]) == (["asc", "desc"], "desc")


# ---- the command line and its errors --------------------------------------------------------


def _docs_copy(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(generate.DOCS, docs)
    for p in docs.iterdir():
        p.chmod(0o644)
    return docs


def test_main_reports_every_correction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "openapi.yaml"
    assert generate.main(["--out", str(out), "-v"]) == 0
    lines = capsys.readouterr().err.splitlines()
    fixes = _overlay()["corrections"]
    assert len(lines) == len(fixes)
    for line, fix in zip(lines, fixes, strict=True):
        assert line.startswith(f"correction: {fix['source']}: ")
    assert out.read_text(encoding="utf-8") == generate.render(_spec())


def test_unknown_type_names_the_field_and_the_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = _docs_copy(tmp_path)
    export = docs / "004_8d459466a9b6a794.txt"
    export.write_text(
        export.read_text(encoding="utf-8").replace("`float`  ", "`decimal`"), encoding="utf-8"
    )
    rc = generate.main(["--docs", str(docs), "--out", str(tmp_path / "o.yaml")])
    err = capsys.readouterr().err
    assert rc == 2
    assert (
        "004_8d459466a9b6a794.txt:26: field 'attributes.progress' has unknown type 'decimal'" in err
    )
    assert "Traceback" not in err and not (tmp_path / "o.yaml").exists()


def test_malformed_table_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = _docs_copy(tmp_path)
    imp = docs / "003_de99ded30f53150b.txt"
    imp.write_text(
        imp.read_text(encoding="utf-8").replace(
            "| attributes.**inputs_size** | `integer` |", "| attributes.**inputs_size** |"
        ),
        encoding="utf-8",
    )
    assert generate.main(["--docs", str(docs), "--out", str(tmp_path / "o.yaml")]) == 2
    assert (
        "003_de99ded30f53150b.txt:19: row has 2 cells, the header has 3" in capsys.readouterr().err
    )


def test_stale_correction_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = _docs_copy(tmp_path)
    imp = docs / "003_de99ded30f53150b.txt"
    imp.write_text(
        imp.read_text(encoding="utf-8").replace("interrputed", "interrupted"), encoding="utf-8"
    )
    assert generate.main(["--docs", str(docs), "--out", str(tmp_path / "o.yaml")]) == 2
    assert "drop the stale correction" in capsys.readouterr().err


def test_copies_of_one_object_must_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = copy.deepcopy(_overlay())  # the cached one is shared
    overlay["corrections"] = [
        f for f in overlay["corrections"] if f["source"] != "001_0b81a490aac6d25a.txt"
    ]
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    assert generate.main(["--overlay", str(path), "--out", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert "001_0b81a490aac6d25a.txt:1:" in err and "relationships.event_stores" in err


def test_the_rackspace_doc_example_matches_the_generated_schema() -> None:
    text = (generate.DOCS / "002_9a41a57ea0a09dce.txt").read_text(encoding="utf-8")
    example = json.loads(text[text.rindex("\n   {") :])  # the JSON response example closes the doc
    validator = _validator("RackspaceCleanupList")
    assert list(validator.iter_errors(example)) == []
    example["cleanups"][0]["state"] = "bogus"
    assert not validator.is_valid(example)


def test_the_notes_create_example_matches_the_generated_schema() -> None:
    # notes: commercelayer_api.md §4 — the 201 body of a created import
    body = {
        "data": {
            "id": "PmjlkIJzRA",
            "type": "imports",
            "links": {"self": "https://acme.commercelayer.io/api/imports/PmjlkIJzRA"},
            "attributes": {
                "resource_type": "skus",
                "format": "json",
                "parent_resource_id": None,
                "status": "pending",
                "started_at": None,
                "completed_at": None,
                "interrupted_at": None,
                "inputs": [{"code": "ABC"}],
                "inputs_size": 2,
                "errors_count": 0,
                "warnings_count": 0,
                "processed_count": 0,
                "errors_log": {},
                "warnings_log": {},
                "skip_errors": False,
                "attachment_url": None,
                "created_at": "2026-01-01T12:00:00.000Z",
                "updated_at": "2026-01-01T12:00:00.000Z",
                "reference": None,
                "reference_origin": None,
                "metadata": {},
            },
            "relationships": {
                "events": {
                    "links": {
                        "self": "https://acme.commercelayer.io/api/imports/PmjlkIJzRA/relationships/events",
                        "related": "https://acme.commercelayer.io/api/imports/PmjlkIJzRA/events",
                    }
                }
            },
            "meta": {"mode": "test", "organization_id": "JxYabZKcAw"},
        }
    }
    validator = _validator("ImportDocument")
    assert list(validator.iter_errors(body)) == []
    body["data"]["attributes"]["status"] = "interrputed"
    assert not validator.is_valid(body)


def test_overlay_components_cannot_replace_generated_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = copy.deepcopy(_overlay())  # the cached one is shared
    overlay["components"]["schemas"]["Import"] = {"type": "object"}
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay), encoding="utf-8")
    assert generate.main(["--overlay", str(path), "--out", str(tmp_path / "o.yaml")]) == 2
    assert (
        "spec_overlay.yaml: components.schemas ['Import'] are generated" in capsys.readouterr().err
    )
