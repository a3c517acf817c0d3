"""CSV import inputs: header + rows, relationship columns, coercion, line-numbered errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mock_server.records.catalog import Catalog
from mock_server.records.csv_inputs import coerce_item, parse_csv
from mock_server.records.store import RecordStore
from mock_server.records.validate import validate_item


def test_cli_style_csv() -> None:
    # The CLI sends exactly this for `imports:create --csv` (notes B5).
    assert parse_csv("code,name\nSKU1,A\nSKU2,B") == [
        {"code": "SKU1", "name": "A"}, {"code": "SKU2", "name": "B"}]


def test_empty_cells_are_absent_and_blank_lines_skipped() -> None:
    assert parse_csv("code,name,description\r\nSKU1,,x\r\n\r\nSKU2,B,\r\n") == [
        {"code": "SKU1", "description": "x"}, {"code": "SKU2", "name": "B"}]


def test_quotes_bom_and_newlines_inside_cells() -> None:
    text = '\ufeffcode,description\nSKU1,"line one\nline two, with comma"\nSKU2,"say ""hi"""\n'
    assert parse_csv(text) == [
        {"code": "SKU1", "description": "line one\nline two, with comma"},
        {"code": "SKU2", "description": 'say "hi"'}]


def test_relationship_columns_with_comma_separated_values() -> None:
    text = 'code,tags.id,tags.name\nSKU1,"t1,t2","red, blue"\nSKU2,t3,green\n'
    assert parse_csv(text) == [
        {"code": "SKU1", "tags": [{"id": "t1", "name": "red"}, {"id": "t2", "name": "blue"}]},
        {"code": "SKU2", "tags": [{"id": "t3", "name": "green"}]}]


def test_coercion_to_catalog_types(catalog: Catalog) -> None:
    text = ('code,name,weight,pieces_per_pack,do_not_ship,metadata,shipping_category.id\n'
            'SKU1,A,1.5,3,TRUE,"{""a"": 1}",CAT1\n')
    (item,) = parse_csv(text, catalog["skus"])
    assert item == {"code": "SKU1", "name": "A", "weight": 1.5, "pieces_per_pack": 3,
                    "do_not_ship": True, "metadata": {"a": 1}, "shipping_category_id": "CAT1"}


def test_unconvertible_values_stay_strings_and_fail_validation(catalog: Catalog) -> None:
    (item,) = parse_csv("sku_code,price_list_id,amount_cents\nA,L,ten\n", catalog["prices"])
    assert item["amount_cents"] == "ten"
    errors = validate_item(catalog["prices"], item, RecordStore(catalog))
    assert errors is not None and errors["amount_cents"] == ["is invalid"]


@pytest.mark.parametrize(("value", "json_type", "expected"), [
    ("12", "integer", 12), ("-3", "integer", -3), ("1.0", "integer", "1.0"),
    ("7", "number", 7), ("2.25", "number", 2.25), ("inf", "number", "inf"),
    ("false", "boolean", False), ("0", "boolean", False), ("yes", "boolean", "yes"),
    ("[1]", "object", "[1]"), ("[1]", "array", [1]), ("{bad", "object", "{bad"),
    ("007", "string", "007"),
])
def test_coerce_values(value: str, json_type: str, expected: object, catalog: Catalog) -> None:
    rtype = replace(catalog["tags"], attributes={"v": json_type})
    assert coerce_item(rtype, {"v": value})["v"] == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "line 1: CSV inputs need a header"),
    ("code,name\nA,B\nC\n", "line 3: expected 2 fields, got 1"),
    ("code,name\nA,B,C\n", "line 2: expected 2 fields, got 3"),
    ('code,name\nA,"unclosed\n', r"line \d+: malformed CSV"),
    ('code,name\nA,"x"y\n', "line 2: malformed CSV"),
    ("code,code\nA,B\n", "line 1: duplicate column 'code'"),
    ("code,,name\nA,B,C\n", "line 1: empty column"),
    ("code,tags.\nA,B\n", "line 1: bad relationship column"),
    ('code,tags.id,tags.name\nA,"1,2",x\n', "line 2: tags"),
])
def test_malformed_csv_names_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_csv(text)
