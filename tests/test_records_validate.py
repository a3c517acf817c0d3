"""Import item validation: ActiveModel-style errors and errors_log keys (§2.6)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.records.catalog import Catalog
from mock_server.records.store import RecordStore
from mock_server.records.validate import apply_parent, item_key, validate_item

T0 = "2026-02-01T10:00:00.000Z"


@pytest.fixture
def store(catalog: Catalog) -> RecordStore:
    store = RecordStore(catalog, seed=1, tenant="acme")
    store.upsert("shipping_categories", {"id": "SHIPCAT001", "name": "Merch"}, T0)
    store.upsert("price_lists", {"id": "PLIST00001", "name": "EU", "currency_code": "EUR"}, T0)
    store.upsert("skus", {"code": "ABC", "name": "Foo"}, T0)
    return store


def test_valid_item_gives_none(catalog: Catalog, store: RecordStore) -> None:
    item = {"code": "NEW", "name": "Bar", "shipping_category_id": "SHIPCAT001", "weight": 1,
            "do_not_ship": False, "metadata": {"a": 1}}
    assert validate_item(catalog["skus"], item, store) is None


def test_missing_required_attribute(catalog: Catalog, store: RecordStore) -> None:
    assert validate_item(catalog["skus"], {"code": "X"}, store) == {"name": ["can't be blank"]}
    assert validate_item(catalog["skus"], {"code": "X", "name": "  "}, store) == {
        "name": ["can't be blank"]}


def test_unknown_relationship_id_must_exist(catalog: Catalog, store: RecordStore) -> None:
    item = {"code": "DEF", "name": "Bar", "shipping_category_id": "zwzQeFBrNj"}
    assert validate_item(catalog["skus"], item, store) == {"shipping_category": ["must exist"]}


def test_missing_required_relationship_key_must_exist(catalog: Catalog, store: RecordStore) -> None:
    errors = validate_item(catalog["prices"], {"price_list_id": "PLIST00001", "amount_cents": 1},
                           store)
    assert errors == {"sku": ["must exist"]}


def test_reference_by_code_is_checked(catalog: Catalog, store: RecordStore) -> None:
    ok = {"sku_code": "ABC", "price_list_id": "PLIST00001", "amount_cents": 100}
    assert validate_item(catalog["prices"], ok, store) is None
    errors = validate_item(catalog["prices"], {**ok, "sku_code": "NOPE"}, store)
    assert errors == {"sku": ["must exist"]}


@pytest.mark.parametrize(("attr", "value"), [
    ("amount_cents", "100"), ("amount_cents", True), ("amount_cents", 1.5),
    ("metadata", "x"), ("sku_code", 42),
])
def test_wrong_type_is_invalid(catalog: Catalog, store: RecordStore, attr: str, value: Any) -> None:
    item = {"sku_code": "ABC", "price_list_id": "PLIST00001", "amount_cents": 100, attr: value}
    errors = validate_item(catalog["prices"], item, store)
    assert errors is not None and errors[attr] == ["is invalid"]


def test_datetime_and_enum(catalog: Catalog, store: RecordStore) -> None:
    base = {"currency_code": "EUR", "balance_cents": 100}
    assert validate_item(catalog["gift_cards"], {**base, "expires_at": "2026-05-01T00:00:00Z"},
                         store) is None
    errors = validate_item(catalog["gift_cards"], {**base, "expires_at": "soon",
                                                   "status": "lost"}, store)
    assert errors == {"expires_at": ["is invalid"], "status": ["is not included in the list"]}


def test_parent_resource_id_fills_the_parent_key(catalog: Catalog, store: RecordStore) -> None:
    prices = catalog["prices"]
    item = {"sku_code": "ABC", "amount_cents": 100}
    assert validate_item(prices, item, store) == {"price_list": ["must exist"]}
    assert validate_item(prices, item, store, parent_id="PLIST00001") is None
    assert validate_item(prices, item, store, parent_id="MISSING") == {"price_list": ["must exist"]}
    # An item's own relationship id overrides parent_resource_id (§1.2).
    own = {**item, "price_list_id": "PLIST00001"}
    assert validate_item(prices, own, store, parent_id="MISSING") is None
    assert apply_parent(prices, own, "MISSING")["price_list_id"] == "PLIST00001"
    assert apply_parent(catalog["tags"], {"name": "x"}, "P") == {"name": "x"}


def test_id_matched_item_cannot_take_another_code(catalog: Catalog, store: RecordStore) -> None:
    other, _ = store.upsert("skus", {"code": "OTHER", "name": "o"}, T0)
    errors = validate_item(catalog["skus"], {"id": other["id"], "code": "ABC"}, store)
    assert errors == {"code": ["has already been taken"]}
    assert validate_item(catalog["skus"], {"id": other["id"], "code": "FREE"}, store) is None


def test_non_object_item(catalog: Catalog, store: RecordStore) -> None:
    assert validate_item(catalog["skus"], ["code"], store) == {"base": ["is invalid"]}
    assert validate_item(catalog["skus"], {"id": 5, "code": "A", "name": "n"}, store) == {
        "id": ["is invalid"]}


def test_item_key(catalog: Catalog) -> None:
    assert item_key(catalog["skus"], {"code": "BABYONBU000000E63E7418MX"}, 0) == \
        "BABYONBU000000E63E7418MX"
    assert item_key(catalog["customers"], {"email": "a@example.com"}, 3) == "a@example.com"
    assert item_key(catalog["skus"], {"name": "no code"}, 4) == "4"
    assert item_key(catalog["skus"], {"id": "XyZ", "name": "no code"}, 4) == "XyZ"
    assert item_key(catalog["skus"], "garbage", 7) == "7"
    assert item_key(catalog["skus"], {"code": ""}, 2) == "2"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(item=st.dictionaries(st.sampled_from(["code", "name", "weight", "shipping_category_id",
                                             "metadata", "id", "do_not_ship", "other"]), _json))
def test_any_item_gives_none_or_rails_errors(catalog: Catalog, item: dict[str, Any]) -> None:
    store = RecordStore(catalog, seed=1, tenant="acme")
    errors = validate_item(catalog["skus"], item, store)
    assert errors is None or (errors and all(
        isinstance(k, str) and v and all(isinstance(m, str) for m in v)
        for k, v in errors.items()))
    if errors is None:
        store.upsert("skus", item, T0)  # whatever validates can be stored


def test_updates_need_not_repeat_required_attributes(catalog: Catalog, store: RecordStore) -> None:
    assert validate_item(catalog["skus"], {"code": "ABC", "description": "new"}, store) is None
    assert validate_item(catalog["skus"], {"code": "ABC", "name": ""}, store) == {
        "name": ["can't be blank"]}
    assert validate_item(catalog["skus"], {"code": "XYZ", "description": "new"}, store) == {
        "name": ["can't be blank"]}
