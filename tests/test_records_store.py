"""RecordStore: upserts by id and unique keys, cascaded deletes, snapshots, relationships."""

from __future__ import annotations

import pytest

from mock_server.records import resolver
from mock_server.records.catalog import Catalog
from mock_server.records.store import DuplicateKey, RecordStore

T0 = "2026-02-01T10:00:00.000Z"
T1 = "2026-02-01T11:00:00.000Z"


@pytest.fixture
def store(catalog: Catalog) -> RecordStore:
    return RecordStore(catalog, seed=3, tenant="acme")


@pytest.fixture
def org(catalog: Catalog) -> RecordStore:
    return RecordStore.generated(catalog, 3, "acme")


def test_upsert_creates_a_full_record(store: RecordStore, catalog: Catalog) -> None:
    record, created = store.upsert("skus", {"code": "A1", "name": "Shirt", "junk": 1}, T0)
    assert created
    assert record["type"] == "skus" and len(record["id"]) == 10
    assert set(catalog["skus"].attributes) <= set(record)
    assert "junk" not in record
    assert record["metadata"] == {} and record["description"] is None
    assert record["created_at"] == record["updated_at"] == T0
    assert store.get("skus", record["id"]) is record
    assert store.list("skus") == [record]


def test_upsert_matches_skus_by_code(store: RecordStore) -> None:
    first, _ = store.upsert("skus", {"code": "A1", "name": "Shirt"}, T0)
    again, created = store.upsert("skus", {"code": "A1", "name": "Better shirt"}, T1)
    assert not created and again["id"] == first["id"]
    assert again["name"] == "Better shirt"
    assert again["created_at"] == T0 and again["updated_at"] == T1
    assert store.count("skus") == 1


def test_upsert_matches_customers_by_email(store: RecordStore) -> None:
    first, _ = store.upsert("customers", {"email": "a@example.com", "status": "prospect"}, T0)
    again, created = store.upsert("customers", {"email": "a@example.com", "status": "repeat"}, T1)
    assert not created and again["id"] == first["id"] and again["status"] == "repeat"


def test_upsert_matches_prices_by_sku_code_and_price_list(store: RecordStore) -> None:
    a, _ = store.upsert("prices", {"sku_code": "A1", "price_list_id": "L1", "amount_cents": 1}, T0)
    b, created_b = store.upsert("prices", {"sku_code": "A1", "price_list_id": "L2",
                                           "amount_cents": 2}, T0)
    c, created_c = store.upsert("prices", {"sku_code": "A1", "price_list_id": "L1",
                                           "amount_cents": 3}, T1)
    assert created_b and b["id"] != a["id"]
    assert not created_c and c["id"] == a["id"] and c["amount_cents"] == 3
    assert store.count("prices") == 2


def test_an_update_replaces_the_record_and_leaves_the_old_object_alone(
        store: RecordStore) -> None:
    rec, _ = store.upsert("skus", {"code": "A", "name": "x", "metadata": {"k": 1}}, T0)
    shared = dict(rec)
    other = RecordStore(store.catalog)
    other.load("skus", [rec])  # another tenant sharing the object, as fixtures are shared
    updated, _ = store.upsert("skus", {"code": "A", "name": "y", "metadata": {"k": 2}}, T1)
    assert updated["name"] == "y" and store.get("skus", rec["id"])["name"] == "y"
    assert rec == shared and other.get("skus", rec["id"]) == shared  # nobody else saw it


def test_upsert_by_id_can_change_the_unique_key(store: RecordStore) -> None:
    rec, _ = store.upsert("skus", {"code": "OLD", "name": "x"}, T0)
    moved, created = store.upsert("skus", {"id": rec["id"], "code": "NEW"}, T1)
    assert not created and moved["code"] == "NEW"
    assert store.find("skus", "code", "NEW") == moved and moved["id"] == rec["id"]
    assert store.find("skus", "code", "OLD") is None
    fresh, created = store.upsert("skus", {"code": "OLD", "name": "y"}, T1)
    assert created and fresh["id"] != rec["id"]


def test_upsert_refuses_to_take_another_records_key(store: RecordStore) -> None:
    store.upsert("skus", {"code": "A", "name": "a"}, T0)
    b, _ = store.upsert("skus", {"code": "B", "name": "b"}, T0)
    with pytest.raises(DuplicateKey):
        store.upsert("skus", {"id": b["id"], "code": "A"}, T1)
    assert b["code"] == "B" and b["updated_at"] == T0


def test_upsert_copies_nested_values(store: RecordStore) -> None:
    meta = {"tags": ["x"]}
    rec, _ = store.upsert("skus", {"code": "A", "name": "a", "metadata": meta}, T0)
    meta["tags"].append("y")
    assert rec["metadata"] == {"tags": ["x"]}


def test_new_ids_sort_after_generated_ones(org: RecordStore) -> None:
    newest = max(r["id"] for name in org.types() for r in org.list(name))
    rec, _ = org.upsert("tags", {"name": "brand-new"}, T0)
    later, _ = org.upsert("tags", {"name": "brand-newer"}, T0)
    assert newest < rec["id"] < later["id"]


def test_ids_are_deterministic_per_seed(catalog: Catalog) -> None:
    def ids(seed: int) -> list[str]:
        store = RecordStore(catalog, seed=seed, tenant="acme")
        return [store.upsert("tags", {"name": n}, T0)[0]["id"] for n in ("a", "b", "c")]

    assert ids(1) == ids(1) != ids(2)


def test_delete_cascades_to_prices_stock_items_and_tiers(org: RecordStore) -> None:
    sku = org.list("skus")[0]
    prices = [p for p in org.list("prices") if p["sku_code"] == sku["code"]]
    assert prices, "the generated org gives every sku prices"
    tier, _ = org.upsert("price_tiers", {"price_id": prices[0]["id"], "name": "t",
                                         "price_amount_cents": 5}, T0)
    stock = [s for s in org.list("stock_items") if s["sku_code"] == sku["code"]]
    others = org.count("prices") - len(prices)
    removed = org.delete("skus", sku["id"])
    assert removed[0] == ("skus", sku["id"])
    assert {("prices", p["id"]) for p in prices} <= set(removed)
    assert {("stock_items", s["id"]) for s in stock} <= set(removed)
    assert ("price_tiers", tier["id"]) in removed
    assert org.get("skus", sku["id"]) is None
    assert org.count("prices") == others
    assert not any(p["sku_code"] == sku["code"] for p in org.list("prices"))
    assert org.get("price_tiers", tier["id"]) is None


def test_deleted_key_is_free_again(store: RecordStore) -> None:
    rec, _ = store.upsert("skus", {"code": "A", "name": "a"}, T0)
    store.delete("skus", rec["id"])
    again, created = store.upsert("skus", {"code": "A", "name": "a"}, T1)
    assert created and again["id"] != rec["id"]


def test_delete_missing_removes_nothing(org: RecordStore) -> None:
    before = org.count("skus")
    assert org.delete("skus", "nope") == []
    assert org.count("skus") == before


def test_delete_many(org: RecordStore) -> None:
    ids = [s["id"] for s in org.list("skus")[:3]]
    removed = org.delete_many("skus", ids)
    assert [r for r in removed if r[0] == "skus"] == [("skus", i) for i in ids]
    assert all(org.get("skus", i) is None for i in ids)


def test_count_and_snapshot_with_a_predicate(org: RecordStore) -> None:
    def cheap(r: object) -> bool:
        return r["amount_cents"] < 50_000  # type: ignore[index]

    expected = [p for p in org.list("prices") if p["amount_cents"] < 50_000]
    assert org.count("prices", cheap) == len(expected)
    snap = org.snapshot("prices", cheap)
    assert [s["id"] for s in snap] == [p["id"] for p in expected]
    assert org.count("prices") == len(org.list("prices"))


def test_snapshot_is_frozen_in_time(org: RecordStore) -> None:
    snap = org.snapshot("skus")
    first = org.list("skus")[0]
    org.upsert("skus", {"code": first["code"], "name": "renamed"}, T1)
    snap[0]["metadata"]["x"] = 1
    assert snap[0]["name"] != "renamed"
    assert first["metadata"] == {}


def test_related_to_one_and_to_many(org: RecordStore, catalog: Catalog) -> None:
    price = org.list("prices")[0]
    sku = resolver(org, catalog, catalog["prices"])("sku", price)
    assert isinstance(sku, dict) and sku["code"] == price["sku_code"]
    prices = resolver(org, catalog, catalog["skus"])("prices", sku)
    assert isinstance(prices, list) and price in prices
    assert all(p["sku_code"] == sku["code"] for p in prices)
    order = org.list("orders")[0]
    customer = resolver(org, catalog, catalog["orders"])("customer", order)
    assert isinstance(customer, dict) and customer["email"] == order["customer_email"]
    orphan, _ = org.upsert("prices", {"sku_code": "GONE", "price_list_id": "L"}, T0)
    assert resolver(org, catalog, catalog["prices"])("sku", orphan) is None
    with pytest.raises(ValueError, match="no relationship"):
        resolver(org, catalog, catalog["prices"])("nonsense", price)


def test_unknown_type_fails_loudly(store: RecordStore) -> None:
    with pytest.raises(KeyError):
        store.list("widgets")
    with pytest.raises(KeyError):
        store.upsert("widgets", {}, T0)


def test_clear_keeps_ids_moving_forward(store: RecordStore) -> None:
    a, _ = store.upsert("tags", {"name": "a"}, T0)
    store.clear()
    assert store.count("tags") == 0
    b, _ = store.upsert("tags", {"name": "a"}, T0)
    assert b["id"] > a["id"]
