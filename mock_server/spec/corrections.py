"""The overlay's `corrections`: explicit fixes of what a vendor document gets wrong or omits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .describe import describe, enum_of
from .tables import Document, FieldRow, SpecSourceError

OVERLAY = "spec_overlay.yaml"


@dataclass(frozen=True, slots=True)
class Correction:
    """One applied correction, as reported on stderr."""

    source: str
    what: str

    def __str__(self) -> str:
        return f"correction: {self.source}: {self.what}"


@dataclass(frozen=True, slots=True)
class Corrected:
    """A row after corrections: the row itself plus enum renames that apply to it."""

    row: FieldRow
    rename_enum: Mapping[str, str]

    def schema(self) -> dict[str, Any]:
        """The row's schema fragment with enum renames applied (default renamed too)."""
        out = describe(self.row)
        if self.rename_enum:
            out["enum"] = [self.rename_enum.get(v, v) for v in out.get("enum", [])]
            if "default" in out:
                out["default"] = self.rename_enum.get(out["default"], out["default"])
            for old, new in self.rename_enum.items():  # the description lists the values too
                out["description"] = out["description"].replace(f"'{old}'", f"'{new}'")
        return out


def _index(rows: list[Corrected], field: str) -> int | None:
    return next((i for i, c in enumerate(rows) if c.row.name == field), None)


def _apply(rows: list[Corrected], fix: Mapping[str, Any], source: str) -> str:
    """Apply one correction to one document's rows; returns what it did."""
    if "add" in fix:
        add = fix["add"]
        field = str(add["field"])
        if _index(rows, field) is not None:
            raise SpecSourceError(
                OVERLAY, 0, f"{source}: correction adds {field!r}, which the document already has"
            )
        after = add.get("after")
        pos = len(rows) if after is None else _index(rows, str(after))
        if pos is None:
            raise SpecSourceError(OVERLAY, 0, f"{source}: 'after: {after}' names no field")
        at = pos if after is None else pos + 1
        line = rows[pos - 1 if after is None else pos].row.line if rows else 0
        new = FieldRow(
            tuple(field.split(".")), str(add["type"]), str(add.get("description", "")), source, line
        )
        describe(new)  # an unknown type in the overlay fails like one in a document
        rows.insert(at, Corrected(new, {}))
        return f"added {field} ({add['type']}), missing from the document"
    field = str(fix.get("field", ""))
    i = _index(rows, field)
    if i is None:
        raise SpecSourceError(OVERLAY, 0, f"{source}: correction names unknown field {field!r}")
    cur = rows[i]
    if "type" in fix:
        new_type = str(fix["type"])
        if cur.row.type.lower() == new_type.lower():
            raise SpecSourceError(
                OVERLAY,
                0,
                f"{source}: {field} already has type {new_type!r}; drop the stale correction",
            )
        rows[i] = replace(cur, row=replace(cur.row, type=new_type))
        describe(rows[i].row)
        return f"{field}: type {cur.row.type!r} -> {new_type!r}"
    if "rename_enum" in fix:
        renames = {str(k): str(v) for k, v in fix["rename_enum"].items()}
        values, _ = enum_of(cur.row.description)
        missing = [k for k in renames if k not in values]
        if missing:
            raise SpecSourceError(
                OVERLAY,
                0,
                f"{source}: {field} lists no enum value {missing}; drop the stale correction",
            )
        rows[i] = replace(cur, rename_enum={**cur.rename_enum, **renames})
        return f"{field}: enum " + ", ".join(f"{k!r} -> {v!r}" for k, v in renames.items())
    raise SpecSourceError(
        OVERLAY, 0, f"{source}: correction of {field!r} has no add/type/rename_enum"
    )


def apply_corrections(
    docs: Mapping[str, Document], fixes: list[Mapping[str, Any]]
) -> tuple[dict[str, list[Corrected]], list[Correction]]:
    """Every document's rows with the overlay's corrections applied, and the report."""
    out = {name: [Corrected(r, {}) for r in doc.fields] for name, doc in docs.items()}
    report: list[Correction] = []
    for fix in fixes:
        source = str(fix.get("source"))
        if source not in out:
            raise SpecSourceError(OVERLAY, 0, f"correction for unknown document {source!r}")
        report.append(Correction(source, _apply(out[source], fix, source)))
    return out, report
