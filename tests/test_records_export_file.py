"""Export files: gzipped JSON/CSV with fields, includes and dry_data, byte-deterministic."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import pytest

from mock_server.records import resolver
from mock_server.records.catalog import Catalog
from mock_server.records.export_file import build_export, check_paths, render_rows
from mock_server.records.store import RecordStore

T0 = "2026-02-01T10:00:00.000Z"


@pytest.fixture
def store(catalog: Catalog) -> RecordStore:
    store = RecordStore(catalog, seed=1, tenant="acme")
    store.upsert("price_lists", {"id": "PL1", "name": "EU", "currency_code": "EUR"}, T0)
    store.upsert("price_lists", {"id": "PL2", "name": "US", "currency_code": "USD"}, T0)
    store.upsert("skus", {"code": "A", "name": "Shirt", "do_not_ship": False,
                          "metadata": {"k": "v"}}, T0)
    store.upsert("skus", {"code": "B", "name": "Mug, big", "reference": "r-b"}, T0)
    for pl, cents in (("PL1", 1000), ("PL2", 1200)):
        price, _ = store.upsert("prices", {"sku_code": "A", "price_list_id": pl,
                                           "amount_cents": cents, "currency_code": "EUR"}, T0)
        store.upsert("price_tiers", {"price_id": price["id"], "name": f"t{cents}",
                                     "price_amount_cents": cents - 100}, T0)
    store.upsert("customers", {"email": "c@example.com", "status": "repeat"}, T0)
    store.upsert("orders", {"number": "1", "currency_code": "EUR",
                            "customer_email": "c@example.com"}, T0)
    return store


def _json(data: bytes) -> Any:
    return json.loads(gzip.decompress(data))


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gzip.decompress(data).decode())))


def _skus(store: RecordStore, catalog: Catalog, **kw: Any) -> bytes:
    return build_export(store.snapshot("skus"), catalog["skus"],
                        related=resolver(store, catalog, catalog["skus"]), **kw)


def test_json_is_all_flat_records(store: RecordStore, catalog: Catalog) -> None:
    rows = _json(_skus(store, catalog))
    expected = [{k: v for k, v in r.items() if k != "type"} for r in store.list("skus")]
    assert rows == expected
    assert "shipping_category_id" in rows[0]  # relationships as <rel>_id (§2.2)


def test_output_is_gzip_with_zero_mtime_and_deterministic(store: RecordStore,
                                                          catalog: Catalog) -> None:
    data = _skus(store, catalog, format="csv")
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\x00\x00\x00\x00"
    assert data == _skus(store, catalog, format="csv")


def test_fields_select_attributes_in_order(store: RecordStore, catalog: Catalog) -> None:
    rows = _json(_skus(store, catalog, fields=["name", "code", "name"]))
    assert rows == [{"name": "Shirt", "code": "A"}, {"name": "Mug, big", "code": "B"}]


def test_star_and_dotted_fields(store: RecordStore, catalog: Catalog) -> None:
    rows = _json(_skus(store, catalog, fields=["code", "prices.amount_cents"]))
    assert rows == [{"code": "A", "prices": [{"amount_cents": 1000}, {"amount_cents": 1200}]},
                    {"code": "B", "prices": []}]
    rows = _json(_skus(store, catalog, fields=["code", "prices.*"]))
    assert rows[0]["prices"][0]["price_list_id"] == "PL1"
    assert "type" not in rows[0]["prices"][0]
    deep = _json(_skus(store, catalog, fields=["code", "prices.price_tiers.price_amount_cents"]))
    assert deep[0]["prices"][1] == {"price_tiers": [{"price_amount_cents": 1100}]}
    star = _json(_skus(store, catalog, fields=["*"]))
    assert star == _json(_skus(store, catalog))


def test_includes_nest_whole_records(store: RecordStore, catalog: Catalog) -> None:
    rows = _json(_skus(store, catalog, includes=["prices.price_tiers"]))
    tiers = rows[0]["prices"][0]["price_tiers"]
    assert [t["name"] for t in tiers] == ["t1000"]
    assert rows[0]["code"] == "A" and rows[1]["prices"] == []
    orders = _json(build_export(store.snapshot("orders"), catalog["orders"], includes=["customer"],
                                related=resolver(store, catalog, catalog["orders"])))
    assert orders[0]["customer"]["email"] == "c@example.com"
    assert orders[0]["customer_email"] == "c@example.com"


def test_csv_has_a_header_and_dotted_columns(store: RecordStore, catalog: Catalog) -> None:
    rows = _csv(_skus(store, catalog, format="csv",
                      fields=["code", "name", "do_not_ship", "metadata", "prices.amount_cents"]))
    assert rows[0] == ["code", "name", "do_not_ship", "metadata", "prices.amount_cents"]
    assert rows[1] == ["A", "Shirt", "false", '{"k":"v"}', "1000,1200"]
    assert rows[2] == ["B", "Mug, big", "", "{}", ""]
    assert len(rows) == 3


def test_csv_to_one_include(store: RecordStore, catalog: Catalog) -> None:
    data = build_export(store.snapshot("orders"), catalog["orders"], format="csv",
                        fields=["number", "customer.email", "customer.status"],
                        related=resolver(store, catalog, catalog["orders"]))
    assert _csv(data) == [["number", "customer.email", "customer.status"],
                          ["1", "c@example.com", "repeat"]]


def test_dry_data_drops_ids_timestamps_and_blanks(store: RecordStore, catalog: Catalog) -> None:
    rows = _json(_skus(store, catalog, dry_data=True, includes=["prices"]))
    assert rows[0] == {"code": "A", "name": "Shirt", "do_not_ship": False,
                       "metadata": {"k": "v"},
                       "prices": [{"sku_code": "A", "currency_code": "EUR", "amount_cents": 1000},
                                  {"sku_code": "A", "currency_code": "EUR", "amount_cents": 1200}]}
    assert rows[1] == {"code": "B", "name": "Mug, big", "reference": "r-b"}
    header = _csv(_skus(store, catalog, format="csv", dry_data=True))[0]
    assert "id" not in header and "created_at" not in header and "code" in header


def test_empty_export(catalog: Catalog) -> None:
    assert _json(build_export([], catalog["skus"])) == []
    assert gzip.decompress(build_export([], catalog["skus"], format="csv")) == b""


def test_bad_requests_raise(store: RecordStore, catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="format"):
        _skus(store, catalog, format="xml")
    with pytest.raises(ValueError, match="no relationships"):
        _skus(store, catalog, includes=["customer"])
    with pytest.raises(ValueError, match="resolver"):
        build_export(store.snapshot("skus"), catalog["skus"], includes=["prices"])


def test_render_rows_matches_the_json_file(store: RecordStore, catalog: Catalog) -> None:
    rows = render_rows(store.snapshot("skus"), fields=["code"],
                       related=resolver(store, catalog, catalog["skus"]))
    assert rows == _json(_skus(store, catalog, fields=["code"]))


def test_check_paths(catalog: Catalog) -> None:
    skus = catalog["skus"]
    assert check_paths(catalog, skus, ["code", "prices.*", "prices.price_tiers.price_amount_cents",
                                       "id", "created_at"], ["prices.price_tiers"]) == []
    problems = check_paths(catalog, skus, ["colour", "prices.nope"], ["orders"])
    assert problems == ["colour: skus has no field 'colour'",
                        "prices.nope: prices has no field 'nope'",
                        "orders.*: skus has no relationship 'orders'"]
