"""Parsers of the three vendor document formats, and descriptions → type, enum, default."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.spec.describe import base_schema, describe, enum_of
from mock_server.spec.tables import (
    FieldRow,
    SpecSourceError,
    detect_format,
    parse_file,
    parse_markdown,
    parse_plain,
    parse_rst,
)

MARKDOWN = """# The thing object

| Field                         | Type       | Description                                   |
| ----------------------------- | ---------- | --------------------------------------------- |
| **type**                      | `string`   | `things`                                      |
| attributes.**resource\\_type** | `string`   | The type. One of 'a\\_b' (default), or 'c'.   |
| attributes.**\\_interrupt**    | `boolean`  | Send this to stop \\(really\\).               |
| meta.**mode**                 | `string`   | The environment (can be one of `test` or `live`) |
"""

PLAIN = """The thing object
Some intro text.
Fields
type
string
things
attributes.started_at
datetime
Time at which the thing
was started.
meta.mode
string
The resource environment (can be one of test
or live
)
Last updated 2 months ago
"""

RST = """Intro.

+---------------+-----------------+-----------------------------+
|Response code  |Name             |Description                  |
+===============+=================+=============================+
|200            | OK              | The request succeeded.      |
+---------------+-----------------+-----------------------------+
|405            | Method Not      | The method is not           |
|               | Allowed         | supported.                  |
+---------------+-----------------+-----------------------------+

The following table shows the query parameters for the request.

+--------------------------+-------------------------+-------------------------+
|Name                      |Type                     |Description              |
+==========================+=========================+=========================+
|sort_dir                  |String                   |Valid values are ``asc`` |
|                          |                         |and ``desc``. The default|
|                          |                         |value is ``desc``.       |
+--------------------------+-------------------------+-------------------------+

The following table shows the body parameters for the response.

+-------------------------+------------------------+---------------------------+
|Name                     |Type                    |Description                |
+=========================+========================+===========================+
|\\ **things**             |String                  |The things.                |
+-------------------------+------------------------+---------------------------+
|things.agent.links.\\     |String                  |Location (URI) of the      |
|**href**                 |                        |agent.                     |
+-------------------------+------------------------+---------------------------+
|things.\\ **count**       |Integer                 |Number.                    |
+-------------------------+------------------------+---------------------------+
"""


def test_markdown_reads_escapes_and_bold_segments() -> None:
    doc = parse_markdown(MARKDOWN, "m.md")
    assert [r.name for r in doc.fields] == [
        "type",
        "attributes.resource_type",
        "attributes._interrupt",
        "meta.mode",
    ]
    assert [r.type for r in doc.fields] == ["string", "string", "boolean", "string"]
    assert doc.fields[1] == FieldRow(
        ("attributes", "resource_type"),
        "string",
        "The type. One of 'a_b' (default), or 'c'.",
        "m.md",
        6,
    )
    assert doc.fields[2].description == "Send this to stop (really)."


def test_markdown_row_with_wrong_cell_count_names_file_and_line() -> None:
    bad = MARKDOWN.replace("| meta.**mode**                 | `string`   |", "| meta.**mode** |")
    with pytest.raises(SpecSourceError) as err:
        parse_markdown(bad, "m.md")
    assert str(err.value) == "m.md:8: row has 2 cells, the header has 3"
    assert (err.value.source, err.value.line) == ("m.md", 8)


def test_markdown_header_without_separator_is_an_error() -> None:
    with pytest.raises(SpecSourceError, match=r"^m\.md:2: table header"):
        parse_markdown("| Field | Type | Description |\n| **a** | `string` | x |\n", "m.md")


def test_markdown_bad_field_name_is_an_error() -> None:
    bad = MARKDOWN.replace("attributes.**\\_interrupt**   ", "attributes.**two words**    ")
    with pytest.raises(SpecSourceError, match=r"^m\.md:7: not a field name"):
        parse_markdown(bad, "m.md")


def test_plain_text_multi_line_descriptions_and_footer() -> None:
    doc = parse_plain(PLAIN, "p.txt")
    assert [(r.name, r.type, r.line) for r in doc.fields] == [
        ("type", "string", 4),
        ("attributes.started_at", "datetime", 7),
        ("meta.mode", "string", 11),
    ]
    assert doc.fields[1].description == "Time at which the thing was started."
    assert doc.fields[2].description == "The resource environment (can be one of test or live )"


def test_plain_text_field_without_type_names_the_line() -> None:
    with pytest.raises(SpecSourceError) as err:
        parse_plain("Fields\ntype\nstring\nthings\nid\nstring\n", "p.txt")
    assert (err.value.source, err.value.line) == ("p.txt", 5)
    with pytest.raises(SpecSourceError, match="no 'Fields' line"):
        parse_plain("nothing here\n", "p.txt")


def test_rst_grid_tables_multi_line_cells_and_continuations() -> None:
    doc = parse_rst(RST, "r.rst")
    assert [(r.name, r.type) for r in doc.fields] == [
        ("sort_dir", "String"),
        ("things", "String"),
        ("things.agent.links.href", "String"),
        ("things.count", "Integer"),
    ]
    assert (
        doc.fields[0].description
        == "Valid values are ``asc`` and ``desc``. The default value is ``desc``."
    )
    assert doc.fields[0].table == "The following table shows the query parameters for the request."
    assert doc.fields[2].line == 29 and doc.fields[2].description == "Location (URI) of the agent."
    assert [(s.code, s.name) for s in doc.statuses] == [(200, "OK"), (405, "Method Not Allowed")]


def test_rst_misaligned_row_names_file_and_line() -> None:
    bad = RST.replace("|things.\\ **count**       |Integer", "|things.\\ **count**      |Integer")
    with pytest.raises(SpecSourceError) as err:
        parse_rst(bad, "r.rst")
    assert (err.value.source, err.value.line) == ("r.rst", 32)
    assert "does not line up" in str(err.value)


def test_detect_format_and_parse_file(tmp_path: Path) -> None:
    assert (detect_format(MARKDOWN), detect_format(PLAIN), detect_format(RST)) == (
        "markdown",
        "plain",
        "rst",
    )
    (tmp_path / "x.txt").write_text(RST, encoding="utf-8")
    assert parse_file(tmp_path / "x.txt").format == "rst"
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(SpecSourceError, match=r"^empty\.txt:1: no 'Fields' line"):
        parse_file(tmp_path / "empty.txt")


@pytest.mark.parametrize(
    ("text", "values", "default"),
    [
        (
            "The job status. One of 'pending' (default), 'in_progress', or 'completed'.",
            ["pending", "in_progress", "completed"],
            "pending",
        ),
        ("The format of the export one of 'json' (default) or 'csv'.", ["json", "csv"], "json"),
        ("The resource environment (can be one of `test` or `live`)", ["test", "live"], None),
        ("The resource environment (can be one of test or live )", ["test", "live"], None),
        (
            "Valid values are ``asc`` and ``desc``. The default value is ``desc``.",
            ["asc", "desc"],
            None,
        ),
        ("Send this attribute to restart an 'interrupted' export.", [], None),
    ],
)
def test_enum_of(text: str, values: list[str], default: str | None) -> None:
    assert enum_of(text) == (values, default)


def test_describe_maps_types_defaults_and_enums() -> None:
    def row(t: str, d: str = "") -> FieldRow:
        return FieldRow(("f",), t, d, "s", 1)

    assert base_schema(row("datetime")) == {"type": "string", "format": "date-time"}
    assert base_schema(row("float")) == {"type": "number"}
    assert base_schema(row("String")) == {"type": "string"}
    assert describe(row("Integer", "The default value is 100."))["default"] == 100
    sort_dir = describe(
        row("String", "Valid values are ``asc`` and ``desc``. The default value is ``desc``.")
    )
    assert (sort_dir["enum"], sort_dir["default"]) == (["asc", "desc"], "desc")


def test_unknown_type_names_field_and_type() -> None:
    with pytest.raises(SpecSourceError) as err:
        base_schema(FieldRow(("attributes", "x"), "blob", "", "doc.txt", 7))
    assert str(err.value).startswith("doc.txt:7: field 'attributes.x' has unknown type 'blob'")
