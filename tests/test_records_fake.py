"""Deterministic fake records: byte-identical output and consistent references."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from mock_server.records.catalog import Catalog
from mock_server.records.fake import (
    DEFAULT_EPOCH,
    capacity,
    generate,
    generate_org,
    id_sequence,
    record_id,
)
from mock_server.records.validate import matches_type
from mock_server.timefmt import cl_time

B62 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@pytest.fixture(scope="module")
def org(catalog: Catalog) -> dict[str, list[dict]]:
    return generate_org(catalog, 7, "acme")


def _dump(org: dict[str, list[dict]]) -> bytes:
    return json.dumps(org, sort_keys=False).encode()


def test_same_seed_gives_identical_bytes(catalog: Catalog) -> None:
    assert _dump(generate_org(catalog, 7, "acme")) == _dump(generate_org(catalog, 7, "acme"))


def test_identical_in_a_fresh_interpreter_with_another_hash_seed(catalog: Catalog) -> None:
    code = ("import hashlib, json; from mock_server.records import Catalog, generate_org; "
            "print(hashlib.sha256(json.dumps(generate_org(Catalog.load(), 7, 'acme'))"
            ".encode()).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.stdout.strip() == hashlib.sha256(_dump(generate_org(catalog, 7, "acme"))).hexdigest()


def test_seed_and_tenant_change_the_data(catalog: Catalog, org: dict[str, list[dict]]) -> None:
    other_seed = generate_org(catalog, 8, "acme")
    other_tenant = generate_org(catalog, 7, "globex")
    assert [s["code"] for s in other_seed["skus"]] != [s["code"] for s in org["skus"]]
    assert {s["id"] for s in other_tenant["skus"]}.isdisjoint(s["id"] for s in org["skus"])


def test_ids_are_unique_base62_and_sort_in_creation_order(org: dict[str, list[dict]]) -> None:
    all_ids = [r["id"] for records in org.values() for r in records]
    assert len(all_ids) == len(set(all_ids))
    assert all(len(i) == 10 and set(i) <= B62 for i in all_ids)
    for records in org.values():
        ids = [r["id"] for r in records]
        assert ids == sorted(ids)  # the cleanups CLI pages with sort=id (notes B5)


def test_record_shape(catalog: Catalog, org: dict[str, list[dict]]) -> None:
    sku = org["skus"][0]
    assert list(sku) == ["id", "type", *catalog["skus"].attributes, "created_at", "updated_at"]
    assert sku["type"] == "skus"


def test_values_fit_the_catalog(catalog: Catalog, org: dict[str, list[dict]]) -> None:
    for name, records in org.items():
        rtype = catalog[name]
        assert len(records) <= rtype.sample
        for record in records:
            for attr, json_type in rtype.attributes.items():
                value = record[attr]
                if value is not None:
                    assert matches_type(value, json_type), (name, attr, value)
                if attr in rtype.enums and value is not None:
                    assert value in rtype.enums[attr]
            for attr in rtype.required:
                assert record[attr] not in (None, ""), (name, attr)


def test_unique_keys_are_unique(catalog: Catalog, org: dict[str, list[dict]]) -> None:
    for name, records in org.items():
        key = catalog[name].unique_key
        if key:
            counts = Counter(tuple(r[a] for a in key) for r in records)
            assert max(counts.values(), default=1) == 1, name


def test_references_point_at_existing_records(catalog: Catalog, org: dict[str, list[dict]]) -> None:
    for name, records in org.items():
        rtype = catalog[name]
        for rel, (attr, target_attr) in rtype.foreign_keys.items():
            targets = {t[target_attr] for t in org[rtype.relationships[rel]]}
            for record in records:
                assert record[attr] in targets, (name, rel, record[attr])


def test_commerce_references(org: dict[str, list[dict]]) -> None:
    codes = {s["code"] for s in org["skus"]}
    emails = {c["email"] for c in org["customers"]}
    lists = {p["id"]: p for p in org["price_lists"]}
    assert org["prices"] and all(p["sku_code"] in codes for p in org["prices"])
    assert all(p["currency_code"] == lists[p["price_list_id"]]["currency_code"]
               for p in org["prices"])
    assert org["stock_items"] and all(s["sku_code"] in codes for s in org["stock_items"])
    assert org["orders"] and all(o["customer_email"] in emails for o in org["orders"])


def test_timestamps_come_from_the_epoch(catalog: Catalog) -> None:
    first = generate(catalog["tags"], 3, 1, "acme", epoch=DEFAULT_EPOCH)
    later = generate(catalog["tags"], 3, 1, "acme", epoch=DEFAULT_EPOCH + 86_400)
    assert first[0]["created_at"] == cl_time(DEFAULT_EPOCH)
    assert later[0]["created_at"] == cl_time(DEFAULT_EPOCH + 86_400)
    assert [r["name"] for r in first] == [r["name"] for r in later]
    assert all(r["created_at"] <= r["updated_at"] for r in first)


def test_capacity_limits_reference_only_keys(catalog: Catalog) -> None:
    refs = {"skus": [{"code": "A"}, {"code": "B"}], "price_lists": [{"id": "L1"}]}
    assert capacity(catalog["prices"], refs) == 2
    assert capacity(catalog["skus"], refs) is None
    assert len(generate(catalog["prices"], 2, 1, "t", refs=refs)) == 2
    with pytest.raises(ValueError, match="only 2"):
        generate(catalog["prices"], 3, 1, "t", refs=refs)


def test_generate_org_counts_override_and_cap(catalog: Catalog) -> None:
    org = generate_org(catalog, 1, "t", counts={"skus": 2, "price_lists": 1, "prices": 50})
    assert len(org["skus"]) == 2
    assert len(org["prices"]) == 2  # capped at skus x price_lists
    assert len(org["customers"]) == catalog["customers"].sample


def test_missing_refs_leave_keys_null(catalog: Catalog) -> None:
    (price,) = generate(catalog["prices"], 1, 1, "t")
    assert price["sku_code"] is None and price["price_list_id"] is None


def test_record_id_encodes_its_sequence() -> None:
    assert id_sequence(record_id(12345, "x")) == 12345
    assert record_id(1, "a") < record_id(2, "a") < record_id(62, "a")
    assert record_id(5, "a") == record_id(5, "a") != record_id(5, "b")
