"""Export files: a snapshot rendered as gzipped JSON or CSV, as attachment_url serves it (§2.2)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, RecordType

Related = Callable[[str, Mapping[str, Any]], "dict[str, Any] | list[dict[str, Any]] | None"]
FORMATS = ("json", "csv")
_STAMPS = ("id", "created_at", "updated_at")  # always present besides the catalog attributes


@dataclass(slots=True)
class _Node:
    """What to write for one record: its fields (None = all) and its included relationships."""

    fields: list[str] | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(fields: Sequence[str] | None, includes: Sequence[str] | None) -> _Node:
    """`fields` paths (`code`, `prices.*`, `prices.price_tiers.x`) and `includes` as one tree."""
    root = _Node(fields=None if not fields else [])
    for path in fields or ():
        *rels, name = path.split(".")
        node = root
        for rel in rels:
            node = node.children.setdefault(rel, _Node(fields=[]))
        if name == "*":
            node.fields = None
        elif node.fields is not None and name not in node.fields:
            node.fields.append(name)
    for path in includes or ():
        node = root
        for rel in path.split("."):
            # An include alone exports the whole related record; `fields` may narrow it.
            node = node.children.setdefault(rel, _Node(fields=None))
    return root


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _dry(row: dict[str, Any]) -> dict[str, Any]:
    """dry_data: drop ids (own and `<rel>_id`), timestamps and blanks (§1.3)."""
    return {
        k: v for k, v in row.items()
        if k not in _STAMPS and not k.endswith("_id") and not _is_blank(v)
    }


def _render(record: Mapping[str, Any], node: _Node, related: Related | None,
            dry: bool) -> dict[str, Any]:
    names = [k for k in record if k != "type"] if node.fields is None else node.fields
    row = {k: record[k] for k in names if k in record}
    for rel, child in node.children.items():
        if related is None:
            raise ValueError("includes and relationship fields need a `related` resolver")
        target = related(rel, record)
        if isinstance(target, list):
            row[rel] = [_render(t, child, related, dry) for t in target]
        else:
            row[rel] = None if target is None else _render(target, child, related, dry)
    return _dry(row) if dry else row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return str(value)


def _flatten(row: Mapping[str, Any], node: _Node) -> dict[str, str]:
    """Dotted columns for included records; to-many values comma-joined, like CSV imports."""
    cells: dict[str, str] = {}
    for key, value in row.items():
        if key not in node.children:
            cells[key] = _cell(value)
            continue
        items = value if isinstance(value, list) else ([] if value is None else [value])
        subs = [_flatten(item, node.children[key]) for item in items]
        for column in dict.fromkeys(c for sub in subs for c in sub):
            cells[f"{key}.{column}"] = ",".join(sub.get(column, "") for sub in subs)
    return cells


def render_rows(records: Sequence[Mapping[str, Any]], *, fields: Sequence[str] | None = None,
                includes: Sequence[str] | None = None, dry_data: bool = False,
                related: Related | None = None) -> list[dict[str, Any]]:
    """The export's records as plain objects (before serialisation)."""
    tree = _tree(fields, includes)
    return [_render(r, tree, related, dry_data) for r in records]


def build_export(records: Sequence[Mapping[str, Any]], rtype: RecordType, format: str = "json",
                 fields: Sequence[str] | None = None, includes: Sequence[str] | None = None,
                 dry_data: bool = False, related: Related | None = None) -> bytes:
    """The gzipped export file; byte-identical for the same input (gzip mtime is 0)."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    tree = _tree(fields, includes)
    unknown = sorted(set(tree.children) - set(rtype.relationships))
    if unknown:
        raise ValueError(f"{rtype.name} has no relationships {unknown}")
    rows = [_render(r, tree, related, dry_data) for r in records]
    if format == "json":
        data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    else:
        flat = [_flatten(row, tree) for row in rows]
        header = list(dict.fromkeys(c for row in flat for c in row))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")  # the CLI joins CSV lines with \n (§2.3)
        if header:
            writer.writerow(header)
        writer.writerows([row.get(c, "") for c in header] for row in flat)
        data = out.getvalue().encode()
    return gzip.compress(data, mtime=0)


def check_paths(catalog: Catalog, rtype: RecordType, fields: Sequence[str] | None = None,
                includes: Sequence[str] | None = None) -> list[str]:
    """Problems with an export's `fields` and `includes` (empty when all paths resolve)."""
    problems: list[str] = []
    for path in [*(fields or ()), *(f"{p}.*" for p in includes or ())]:
        *rels, name = path.split(".")
        current = rtype
        for rel in rels:
            if rel not in current.relationships:
                problems.append(f"{path}: {current.name} has no relationship {rel!r}")
                break
            current = catalog[current.relationships[rel]]
        else:
            if name != "*" and name not in current.attributes and name not in _STAMPS:
                problems.append(f"{path}: {current.name} has no field {name!r}")
    return problems
