"""Vendor documents (markdown pipe tables, plain-text field lists, RST grid tables) → FieldRows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_NAME_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$")
_TYPE_RE = re.compile(r"^[A-Za-z][\w-]*$")
_BORDER_RE = re.compile(r"^\+([-=]+\+)+$")
_MD_SEP_RE = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+$")


class SpecSourceError(Exception):
    """A vendor document (or the overlay) says something the generator cannot use."""

    def __init__(self, source: str, line: int, message: str) -> None:
        # line 0: the overlay, whose YAML position is not tracked
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.source = source
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One documented field: dotted path, vendor type word, description, where it was read."""

    path: tuple[str, ...]
    type: str
    description: str
    source: str
    line: int
    table: str = ""  # caption of the table it came from ("" when the document has one table)

    @property
    def name(self) -> str:
        """The dotted field name as the document writes it."""
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One documented HTTP response code (RST response-code tables)."""

    code: int
    name: str
    description: str
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Document:
    """Everything read from one vendor document."""

    source: str
    format: str
    fields: tuple[FieldRow, ...]
    statuses: tuple[StatusRow, ...] = ()


def _clean(text: str) -> str:
    """Inline markup → plain text: escapes, bold, code spans; whitespace collapsed."""
    text = text.replace("\\ ", "")  # RST escaped space joins a prefix to a bold segment
    text = re.sub(r"\\(.)", r"\1", text)
    text = text.replace("**", "")
    return " ".join(text.split())


def _field_path(raw: str, source: str, line: int) -> tuple[str, ...]:
    name = _clean(raw).replace("`", "")
    if not _NAME_RE.match(name):
        raise SpecSourceError(source, line, f"not a field name: {raw.strip()!r}")
    return tuple(name.split("."))


def _type_word(raw: str, source: str, line: int, field: str) -> str:
    word = _clean(raw).strip("`").strip()
    if not _TYPE_RE.match(word):
        raise SpecSourceError(source, line, f"field {field!r}: not a type name: {raw.strip()!r}")
    return word


def _columns(header: list[str], source: str, line: int) -> tuple[int, int, int] | None:
    """Positions of the name, type and description columns, or None for other tables."""
    low = [h.strip().lower() for h in header]
    if "type" not in low or "description" not in low:
        return None
    names = [i for i, h in enumerate(low) if h in ("field", "name", "attribute", "parameter")]
    if not names:
        raise SpecSourceError(source, line, f"table header has no field/name column: {header}")
    return names[0], low.index("type"), low.index("description")


# ---- markdown pipe tables -------------------------------------------------------------------


def _md_cells(line: str) -> list[str]:
    body = line.strip()[1:]
    body = body[:-1] if body.endswith("|") else body
    # split on pipes that are not escaped (`\|` may appear inside a description)
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def parse_markdown(text: str, source: str) -> Document:
    """Markdown pipe tables: `| **field** | \\`type\\` | description |` rows under a header."""
    lines = text.splitlines()
    rows: list[FieldRow] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("|"):
            i += 1
            continue
        header, start = _md_cells(lines[i]), i + 1
        if i + 1 >= len(lines) or not _MD_SEP_RE.match(lines[i + 1].strip().replace(" ", "")):
            raise SpecSourceError(source, i + 2, "table header is not followed by a |---| line")
        cols = _columns(header, source, start)
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            cells = _md_cells(lines[i])
            if len(cells) != len(header):
                raise SpecSourceError(
                    source, i + 1, f"row has {len(cells)} cells, the header has {len(header)}"
                )
            if cols is not None:
                n, t, d = cols
                path = _field_path(cells[n], source, i + 1)
                rows.append(
                    FieldRow(
                        path,
                        _type_word(cells[t], source, i + 1, ".".join(path)),
                        _clean(cells[d]),
                        source,
                        i + 1,
                    )
                )
            i += 1
    return Document(source, "markdown", tuple(rows))


# ---- plain-text field lists -----------------------------------------------------------------


def parse_plain(text: str, source: str) -> Document:
    """Page text: a `Fields` line, then name / type / description (one or more lines) per field."""
    lines = text.splitlines()
    try:
        i = next(n for n, ln in enumerate(lines) if ln.strip() == "Fields") + 1
    except StopIteration:
        raise SpecSourceError(source, 1, "no 'Fields' line starts the field list") from None
    rows: list[FieldRow] = []
    end = len(lines)
    for n in range(i, len(lines)):
        if lines[n].strip().startswith("Last updated"):  # page footer of the docs site
            end = n
            break

    def starts_field(n: int) -> bool:
        # a field needs a name line, a type line and at least one description line
        return (
            n + 2 < end
            and _NAME_RE.match(lines[n].strip()) is not None
            and _TYPE_RE.match(lines[n + 1].strip()) is not None
        )

    while i < end:
        if not lines[i].strip():
            i += 1
            continue
        if not starts_field(i):
            raise SpecSourceError(
                source,
                i + 1,
                f"expected name, type and description lines, got {lines[i].strip()!r}",
            )
        path = tuple(lines[i].strip().split("."))
        type_word = lines[i + 1].strip()
        desc = [lines[i + 2]]
        j = i + 3
        while j < end and not starts_field(j):
            if j + 2 == end and _NAME_RE.match(lines[j].strip()) and _TYPE_RE.match(lines[j + 1]):
                raise SpecSourceError(
                    source, j + 1, f"field {lines[j].strip()!r} has no description"
                )
            desc.append(lines[j])
            j += 1
        rows.append(FieldRow(path, type_word, " ".join(" ".join(desc).split()), source, i + 1))
        i = j
    return Document(source, "plain", tuple(rows))


# ---- RST grid tables ------------------------------------------------------------------------


def _grid_tables(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(first line, end line, caption) of each grid table; caption = the paragraph before it."""
    i = 0
    while i < len(lines):
        if _BORDER_RE.match(lines[i].strip()):
            start = i
            while i < len(lines) and lines[i].strip().startswith(("+", "|")):
                i += 1
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            para: list[str] = []
            while k >= 0 and lines[k].strip():
                para.insert(0, lines[k].strip())
                k -= 1
            yield start, i, " ".join(para)
        else:
            i += 1


def _grid_rows(
    lines: list[str], start: int, end: int, source: str
) -> Iterator[tuple[int, list[str]]]:
    """(line number, joined cells) for every row of one grid table, header first."""
    border = lines[start].rstrip()
    cuts = [n for n, ch in enumerate(border) if ch == "+"]
    buf: list[list[str]] = []
    first = start + 2
    for n in range(start + 1, end):
        ln = lines[n].rstrip()
        if _BORDER_RE.match(ln.strip()):
            if buf:
                yield first, [_join(col) for col in zip(*buf, strict=True)]
            buf, first = [], n + 2
            continue
        if len(ln) != len(border) or any(ln[c] not in "|+" for c in cuts):
            raise SpecSourceError(source, n + 1, "grid table row does not line up with its border")
        buf.append([ln[a + 1 : b] for a, b in zip(cuts, cuts[1:], strict=False)])
    if buf:
        raise SpecSourceError(source, end, "grid table is not closed by a border line")


def _join(parts: tuple[str, ...]) -> str:
    """Lines of one multi-line cell → one string (a trailing `-` or `\\` glues the next line)."""
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        glue = out.endswith(("-", "\\")) or not out
        out = out.rstrip("\\") if out.endswith("\\") else out
        out += part if glue else " " + part
    return out


def parse_rst(text: str, source: str) -> Document:
    """RST grid tables: Name/Type/Description field tables and Response-code tables."""
    lines = text.splitlines()
    fields: list[FieldRow] = []
    statuses: list[StatusRow] = []
    for start, end, caption in _grid_tables(lines):
        rows = iter(_grid_rows(lines, start, end, source))
        hline, header = next(rows, (start + 1, []))
        cols = _columns(header, source, hline)
        is_codes = bool(header) and header[0].strip().lower().startswith("response code")
        for line, cells in rows:
            if cols is not None:
                n, t, d = cols
                path = _field_path(cells[n].strip("{}"), source, line)
                fields.append(
                    FieldRow(
                        path,
                        _type_word(cells[t], source, line, ".".join(path)),
                        _clean(cells[d]),
                        source,
                        line,
                        caption,
                    )
                )
            elif is_codes:
                if not cells[0].strip().isdigit():
                    raise SpecSourceError(source, line, f"not a response code: {cells[0]!r}")
                statuses.append(
                    StatusRow(int(cells[0]), _clean(cells[1]), _clean(cells[2]), source, line)
                )
    return Document(source, "rst", tuple(fields), tuple(statuses))


def detect_format(text: str) -> str:
    """Which of the three formats a document is written in."""
    if any(_BORDER_RE.match(ln.strip()) for ln in text.splitlines()):
        return "rst"
    if any(ln.lstrip().startswith("|") for ln in text.splitlines()):
        return "markdown"
    return "plain"


PARSERS = {"markdown": parse_markdown, "plain": parse_plain, "rst": parse_rst}


def parse_file(path: Path) -> Document:
    """Read one vendor document in whichever format it is written."""
    text = path.read_text(encoding="utf-8")
    doc = PARSERS[detect_format(text)](text, path.name)
    if not doc.fields:
        raise SpecSourceError(path.name, 1, "no field table found")
    return doc


def parse_dir(directory: Path) -> dict[str, Document]:
    """Every vendor document of a directory (README.md excluded), by file name."""
    return {
        p.name: parse_file(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name.lower() != "readme.md" and not p.name.startswith(".")
    }
