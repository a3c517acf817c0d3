"""CSV import inputs (one string: header line + rows, §2.3) parsed into item dicts."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

from .catalog import RecordType

_INT = re.compile(r"[+-]?\d+")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def parse_csv(text: str, rtype: RecordType | None = None) -> list[dict[str, Any]]:
    """Items from CSV inputs; with `rtype`, values are coerced to the catalog's types."""
    if text.startswith("\ufeff"):  # spreadsheet exports often start with a BOM
        text = text[1:]
    # newline="" keeps CRLF and newlines inside quoted cells intact, as the csv module wants.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: malformed CSV header: {exc}") from None
    if header is None or not any(h.strip() for h in header):
        raise ValueError("line 1: CSV inputs need a header line")
    columns = [h.strip() for h in header]
    _check_header(columns)
    items: list[dict[str, Any]] = []
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise ValueError(f"line {reader.line_num}: malformed CSV: {exc}") from None
        if row is None:
            break
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank lines (a trailing newline, say) are not items
        if len(row) != len(columns):
            raise ValueError(
                f"line {reader.line_num}: expected {len(columns)} fields, got {len(row)}")
        item = _item(columns, row, reader.line_num)
        items.append(coerce_item(rtype, item) if rtype is not None else item)
    return items


def _check_header(columns: list[str]) -> None:
    if any(not c for c in columns):
        raise ValueError("line 1: empty column name in the CSV header")
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise ValueError(f"line 1: duplicate column {c!r} in the CSV header")
        seen.add(c)
        if "." in c and (c.startswith(".") or c.endswith(".") or c.count(".") > 1):
            raise ValueError(f"line 1: bad relationship column {c!r} (want rel.attribute)")


def _item(columns: list[str], row: list[str], line: int) -> dict[str, Any]:
    """One row: plain cells as strings (empty = absent), `rel.attr` cells split on commas."""
    item: dict[str, Any] = {}
    related: dict[str, dict[str, list[str]]] = {}
    for column, cell in zip(columns, row, strict=True):
        if cell == "":
            continue  # absent, so a required attribute reports "can't be blank"
        if "." in column:
            rel, attr = column.split(".")
            related.setdefault(rel, {})[attr] = [v.strip() for v in cell.split(",")]
        else:
            item[column] = cell
    for rel, attrs in related.items():
        counts = {len(v) for v in attrs.values()}
        if len(counts) > 1:
            raise ValueError(f"line {line}: {rel}.* columns list different numbers of values")
        item[rel] = [dict(zip(attrs, values, strict=True)) for values in zip(*attrs.values(),
                                                                              strict=True)]
    return item


def coerce_item(rtype: RecordType, item: dict[str, Any]) -> dict[str, Any]:
    """CSV strings to catalog types; unconvertible values stay strings so validation flags them."""
    out = dict(item)
    for rel, (attr, target_attr) in rtype.foreign_keys.items():
        # A to-one `shipping_category.id` column means the key attribute shipping_category_id.
        value = out.get(rel)
        if isinstance(value, list) and len(value) == 1 and set(value[0]) == {target_attr}:
            out.setdefault(attr, value[0][target_attr])
            del out[rel]
    for attr, value in out.items():
        json_type = rtype.attributes.get(attr)
        if json_type is not None and isinstance(value, str):
            out[attr] = _coerce(value, json_type)
    return out


def _coerce(value: str, json_type: str) -> Any:
    text = value.strip()
    if json_type == "integer" and _INT.fullmatch(text):
        return int(text)
    if json_type == "number":
        if _INT.fullmatch(text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    if json_type == "boolean" and text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    if json_type in ("object", "array") and text[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict if json_type == "object" else list) else value
    return value
