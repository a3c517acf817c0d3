"""Vendor documents + fixtures/spec_overlay.yaml → openapi.yaml, deterministically."""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from .corrections import OVERLAY, Corrected, Correction, apply_corrections
from .describe import describe
from .paths import camel, error_responses, records_path, resource_paths, shared_parameters
from .schemas import (
    Schema,
    document,
    jsonapi_resource,
    list_document,
    ref,
    refine,
    tree,
    write_document,
)
from .tables import FieldRow, SpecSourceError, parse_dir
from .text import render

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "fixtures" / "vendor_docs"
OVERLAY_PATH = ROOT / "fixtures" / "spec_overlay.yaml"
OUT = ROOT / "openapi.yaml"
PACKAGED = ROOT / "mock_server" / "openapi.yaml"


@dataclass(frozen=True, slots=True)
class Generated:
    """The spec document and the corrections applied while building it."""

    spec: dict[str, Any]
    corrections: tuple[Correction, ...]


def _rows_by_schema(
    rows: Mapping[str, list[Corrected]], sources: Mapping[str, Any]
) -> dict[str, list[Corrected]]:
    """Rows of every document describing one schema; copies must list the same fields."""
    out: dict[str, list[Corrected]] = {}
    for source, cfg in sources.items():
        if "schema" not in cfg:
            continue
        if source not in rows:
            raise SpecSourceError(OVERLAY, 0, f"sources names missing document {source!r}")
        mine = rows[source]
        seen = out.get(cfg["schema"])
        if seen is None:
            out[cfg["schema"]] = mine
            continue
        first = {c.row.name: c for c in seen}
        names = [c.row.name for c in mine]
        if set(names) != set(first):
            gone = sorted(set(first) - set(names))
            extra = sorted(set(names) - set(first))
            raise SpecSourceError(
                source,
                1,
                f"describes {cfg['schema']} like {seen[0].row.source} but "
                f"lacks {gone} / adds {extra}; add a correction",
            )
        for c in mine:
            a, b = c.schema(), first[c.row.name].schema()
            if (a["type"], a.get("enum")) != (b["type"], b.get("enum")):
                raise SpecSourceError(
                    source,
                    c.row.line,
                    f"{c.row.name}: {a.get('type')} "
                    f"{a.get('enum')} disagrees with {seen[0].row.source}",
                )
    return out


def _documented(overlay: Mapping[str, Any]) -> dict[str, list[Corrected]]:
    """The overlay's `documented` objects as rows, as if a document had listed them."""
    out: dict[str, list[Corrected]] = {}
    for name, fields in (overlay.get("documented") or {}).items():
        rows = []
        for i, (field, word, description) in enumerate(fields):
            row = FieldRow(tuple(str(field).split(".")), str(word), str(description),
                           f"{OVERLAY} documented.{name}", i + 1)
            describe(row)  # fail early on an unknown type, naming the field
            rows.append(Corrected(row, {}))
        out[name] = rows
    return out


def _table_rows(rows: list[Corrected], caption_key: str) -> list[Corrected]:
    return [c for c in rows if caption_key.lower() in c.row.table.lower()]


def _rst_tables(
    source: str,
    cfg: Mapping[str, Any],
    rows: list[Corrected],
    schemas: dict[str, Schema],
    params: dict[str, Schema],
) -> None:
    """Schemas and parameters from the captioned tables of one RST document."""
    for key, tcfg in cfg.get("tables", {}).items():
        mine = _table_rows(rows, key)
        if not mine:
            raise SpecSourceError(source, 1, f"no table whose caption mentions {key!r}")
        if "parameters" in tcfg:
            for c in mine:
                schema = c.schema()
                desc = schema.pop("description", "")
                params[f"{tcfg['prefix']}{camel(c.row.name)}"] = {
                    "name": c.row.name,
                    "in": tcfg["parameters"],
                    "required": tcfg["parameters"] == "path",
                    "description": desc,
                    "schema": schema,
                }
            continue
        body = tree(mine)
        for field, item_name in (tcfg.get("items") or {}).items():
            node = body["properties"][field]
            schemas[item_name] = node.pop("items")
            node["items"] = ref("schemas", item_name)
        schemas[tcfg["schema"]] = body


def _codes(paths: Mapping[str, Any], prefix: str) -> set[int]:
    text = yaml.safe_dump(dict(paths))
    return {int(c) for c in re.findall(rf"#/components/responses/{prefix}(\d{{3}})", text)}


def build(docs_dir: Path = DOCS, overlay_path: Path = OVERLAY_PATH) -> Generated:
    """The whole spec from the documents and the overlay."""
    overlay = yaml.safe_load(overlay_path.read_text(encoding="utf-8"))
    docs = parse_dir(docs_dir)
    rows, report = apply_corrections(docs, list(overlay.get("corrections") or ()))
    for cs in rows.values():
        for c in cs:
            describe(c.row)  # fail early on an unknown type, naming the field
    sources: Mapping[str, Any] = overlay["sources"]
    by_schema = _rows_by_schema(rows, sources)
    for name, documented in _documented(overlay).items():
        if name in by_schema:
            raise SpecSourceError(OVERLAY, 0, f"documented.{name}: a vendor document has it")
        by_schema[name] = documented
    cfg: Mapping[str, Any] = overlay["jsonapi"]
    media = str(cfg["media_type"])
    schemas: dict[str, Schema] = {}
    params: dict[str, Schema] = shared_parameters(cfg)
    paths: dict[str, Schema] = {}
    for name, res in cfg["resources"].items():
        if name not in by_schema:
            raise SpecSourceError(OVERLAY, 0, f"no document describes {name}")
        resource, triggers = jsonapi_resource(name, by_schema[name], res)
        schemas[name] = resource
        schemas[f"{name}Document"] = document(name)
        schemas[f"{name}List"] = list_document(name)
        if "create" in (res.get("operations") or ("create",)):
            schemas[f"{name}CreateDocument"] = write_document(name, resource, triggers, res,
                                                              "create")
        if "update" in (res.get("operations") or ("update",)):
            schemas[f"{name}UpdateDocument"] = write_document(name, resource, triggers, res,
                                                              "update")
        paths.update(resource_paths(name, resource, res, cfg))
    paths.update(records_path(cfg))
    rs_codes: dict[int, tuple[str, str]] = {}
    for source, scfg in sources.items():
        if "tables" in scfg:
            _rst_tables(source, scfg, rows[source], schemas, params)
        if "statuses" in scfg:
            for s in docs[source].statuses:
                if s.code >= 400:
                    rs_codes[s.code] = (s.name, s.description)
    for name, rcfg in (overlay.get("refine") or {}).items():
        if name in schemas:
            refine(schemas[name], rcfg, name)
        elif name in params:
            refine(params[name]["schema"], rcfg, name)
        else:
            raise SpecSourceError(OVERLAY, 0, f"refine names no generated component {name!r}")
    rs = overlay["rackspace"]
    for code, extra in (rs.get("extra_errors") or {}).items():
        rs_codes.setdefault(int(code), (str(extra["name"]), str(extra["description"])))
    verbatim: Mapping[str, Any] = overlay.get("paths") or {}
    _check_rackspace(verbatim, set(rs_codes))
    all_paths = {
        **{p: v for p, v in verbatim.items() if not p.startswith(("/v2", "/_mock"))},
        **paths,
        **{p: v for p, v in verbatim.items() if p.startswith(("/v2", "/_mock"))},
    }
    comps = copy.deepcopy(overlay.get("components") or {})
    cl_codes = {c for codes in cfg["errors"].values() for c in codes} | _codes(all_paths, "ClError")
    responses = {
        **error_responses(
            "ClError", {c: (HTTPStatus(c).phrase, "") for c in cl_codes}, media, "JsonApiErrors"
        ),
        **error_responses("RsError", rs_codes, str(rs["media_type"]), "RackspaceError"),
        **(comps.pop("responses", None) or {}),
    }
    spec: dict[str, Any] = {
        k: copy.deepcopy(overlay[k]) for k in ("openapi", "info", "servers", "tags")
    }
    spec["paths"] = copy.deepcopy(all_paths)
    spec["components"] = {
        "securitySchemes": comps.pop("securitySchemes", {}),
        "parameters": _union("parameters", params, comps.pop("parameters", {})),
        "schemas": _union("schemas", schemas, comps.pop("schemas", {})),
        "responses": responses,
        **comps,
    }
    return Generated(spec, tuple(report))


def _union(kind: str, generated: Mapping[str, Any], verbatim: Mapping[str, Any]) -> dict[str, Any]:
    """Generated components, then the overlay's; the overlay may not silently replace one."""
    clash = sorted(set(generated) & set(verbatim))
    if clash:
        raise SpecSourceError(OVERLAY, 0, f"components.{kind} {clash} are generated; use `refine`")
    return {**generated, **verbatim}


def _check_rackspace(paths: Mapping[str, Any], documented: set[int]) -> None:
    """Every /v2 operation declares every documented error status (notes: §A7 P6); those about
    a request body (413, 415, 422) only where there is one."""
    for path, item in paths.items():
        if not path.startswith("/v2"):
            continue
        for method, op in item.items():
            if method == "parameters":
                continue
            declared = {int(c) for c in op.get("responses", {}) if str(c).isdigit()}
            missing = sorted(c for c in documented - declared if c not in (413, 415, 422))
            if missing:
                raise SpecSourceError(
                    OVERLAY, 0, f"{method.upper()} {path} lacks responses {missing}"
                )


def main(argv: Sequence[str] | None = None) -> int:
    """`mock-server spec [--docs DIR] [--overlay FILE] [--out FILE] [--check]`."""
    parser = argparse.ArgumentParser(prog="mock-server spec", description=__doc__)
    parser.add_argument("--docs", type=Path, default=DOCS, help="vendor documents directory")
    parser.add_argument("--overlay", type=Path, default=OVERLAY_PATH, help="spec overlay YAML")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output file (default: openapi.yaml and mock_server/openapi.yaml)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; say in one line whether the files match a regeneration "
             "(exit 1 when they do not)",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every correction applied to the vendor documents")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        gen = build(args.docs, args.overlay)
    except (SpecSourceError, OSError, yaml.YAMLError) as exc:
        print(f"mock-server spec: error: {exc}", file=sys.stderr)
        return 2
    if args.verbose:
        for c in gen.corrections:
            print(c, file=sys.stderr)
    text = render(gen.spec)
    targets: list[Path] = [args.out] if args.out else [OUT, PACKAGED]
    names = " and ".join(_shown(t) for t in targets)
    fixes = (f"{len(gen.corrections)} corrections to the vendor documents"
             + ("" if args.verbose else "; -v lists them"))
    if args.check:
        stale = [_shown(t) for t in targets
                 if not t.exists() or t.read_text(encoding="utf-8") != text]
        if stale:
            print(f"mock-server spec: {' and '.join(stale)} stale; run `mock-server spec` "
                  f"({fixes})")
            return 1
        print(f"mock-server spec: {names} up to date ({fixes})")
        return 0
    for t in targets:
        t.write_text(text, encoding="utf-8")
    print(f"mock-server spec: wrote {names} ({fixes})")
    return 0


def _shown(path: Path) -> str:
    """A path as the user knows it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
