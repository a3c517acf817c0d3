"""The record type catalog: job type lists, keys, relationships and load-time checks."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from mock_server.records.catalog import Catalog, CatalogError

# §1.2 and §1.4 of the API notes, verbatim.
IMPORT_TYPES = {
    "addresses", "bundles", "coupons", "customer_addresses", "customer_payment_sources",
    "customer_subscriptions", "customers", "gift_cards", "line_items", "line_item_options",
    "orders", "price_tiers", "prices", "shipping_categories", "sku_lists", "sku_list_items",
    "sku_options", "skus", "stock_items", "stock_transfers", "tags", "tax_categories",
}
CLEANUP_TYPES = {"bundles", "gift_cards", "prices", "promotions", "sku_lists", "sku_options",
                 "skus", "stock_items"}


def test_job_type_lists_match_the_notes(catalog: Catalog) -> None:
    assert set(catalog.names(importable=True)) == IMPORT_TYPES
    assert set(catalog.names(cleanable=True)) == CLEANUP_TYPES
    exportable = catalog.names(exportable=True)
    assert len(exportable) == 31
    assert {"addresses", "voids"} <= set(exportable)  # §1.3 "31 types (addresses … voids)"


def test_every_job_type_has_an_entry(catalog: Catalog) -> None:
    union = IMPORT_TYPES | CLEANUP_TYPES | set(catalog.names(exportable=True))
    assert union <= set(catalog.types)


def test_unique_keys_from_the_notes(catalog: Catalog) -> None:
    assert catalog["skus"].unique_key == ("code",)
    assert catalog["customers"].unique_key == ("email",)
    assert catalog["prices"].unique_key == ("sku_code", "price_list_id")
    assert catalog["skus"].identifier == "code"
    assert catalog["customers"].identifier == "email"


def test_skus_relationships_and_cascades(catalog: Catalog) -> None:
    skus = catalog["skus"]
    assert skus.relationships["shipping_category"] == "shipping_categories"
    assert skus.foreign_keys["shipping_category"] == ("shipping_category_id", "id")
    assert "shipping_category" in skus.must_exist
    assert {"prices", "stock_items"} <= set(skus.cascades)
    assert skus.is_to_one("shipping_category") and not skus.is_to_one("prices")
    assert skus.relationship_of("shipping_category_id") == "shipping_category"
    assert skus.relationship_of("code") is None


def test_prices_parent_and_sku_reference(catalog: Catalog) -> None:
    prices = catalog["prices"]
    assert prices.parent == "price_list_id"
    assert prices.foreign_keys["sku"] == ("sku_code", "code")
    assert catalog.inverse(catalog["skus"], "prices") == ("prices", "sku_code", "code")


def test_dependency_order_puts_targets_first(catalog: Catalog) -> None:
    order = catalog.dependency_order()
    assert sorted(order) == sorted(catalog.types)
    pos = {name: i for i, name in enumerate(order)}
    for rtype in catalog:
        for rel in rtype.foreign_keys:
            assert pos[rtype.relationships[rel]] < pos[rtype.name], (rtype.name, rel)


def test_unknown_type_raises_keyerror(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="widgets"):
        catalog["widgets"]


def test_every_entry_names_its_source() -> None:
    text = resources.files("mock_server").joinpath("data/record_types.yaml").read_text("utf-8")
    entries = re.findall(r"^  ([a-z_]+):(.*)$", text, flags=re.M)
    assert len(entries) >= 32
    for name, rest in entries:
        assert "§" in rest or "inferred" in rest, f"{name} has no source comment"


def _minimal(**types: Any) -> dict[str, Any]:
    return {"import_types": [], "export_types": [], "cleanup_types": [], "types": types}


def _pointing_at(target: str) -> dict[str, Any]:
    key = f"{target}_id"
    return {"attributes": {key: "string"}, "relationships": {target: {"type": target, "key": key}}}


@pytest.mark.parametrize(("raw", "message"), [
    ({**_minimal(), "import_types": ["skus"]}, "without an entry"),
    (_minimal(skus={"attributes": {"code": "text"}}), "unknown json types"),
    (_minimal(skus={"attributes": {"code": "string"}, "required": ["name"]}), "unknown attributes"),
    (_minimal(skus={"attributes": {"code": "string"},
                    "relationships": {"x": {"type": "nope", "key": "code"}}}), "unknown type"),
    (_minimal(skus={"attributes": {"code": "string"}, "cascades": ["tags"]},
              tags={"attributes": {"name": "string"}}), "no key pointing back"),
    (_minimal(a=_pointing_at("b"), b=_pointing_at("a")), "cycle"),
])
def test_inconsistent_catalogs_fail_at_load(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        Catalog.from_dict(raw)


def test_load_from_a_path(tmp_path: Any) -> None:
    path = tmp_path / "types.yaml"
    path.write_text(yaml.safe_dump(_minimal(tags={"attributes": {"name": "string"},
                                                  "identifier": "name", "sample": 2})))
    catalog = Catalog.from_dict(yaml.safe_load(path.read_text()))
    loaded = Catalog.load(path)
    assert loaded == catalog
    assert loaded["tags"].identifier == "name" and loaded["tags"].sample == 2
    assert not loaded["tags"].importable
