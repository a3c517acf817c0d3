"""One consistent organization: what an import creates, an export contains and a cleanup removes."""

from __future__ import annotations

import json
from typing import Any

from mock_server import MockServer
from mock_server.keys import STORE

from .fixtures.conformance import ResponseChecker
from .fixtures.http import Api
from .fixtures.records import codes, create, download, finish, first_id, gunzip, job, records

FLOW = [f"FLOW-{i}" for i in range(1, 6)]
ADMIN = {"Content-Type": "application/json"}  # the /_mock/ control API speaks plain JSON


def test_import_then_export_then_cleanup_of_the_same_records(cl: Api, server: MockServer) -> None:
    standard = first_id(cl, "shipping_categories", code_eq="STANDARD")
    price_list = first_id(cl, "price_lists")
    skus = [{"code": c, "name": f"Flow {c}", "shipping_category_id": standard} for c in FLOW]
    imported = create(cl, "imports", resource_type="skus", inputs=skus)["data"]
    assert finish(server, cl, "imports", imported["id"])["processed_count"] == 5
    prices = [{"sku_code": c, "amount_cents": 1000 + i} for i, c in enumerate(FLOW)]
    priced = create(cl, "imports", resource_type="prices", inputs=prices,
                    parent_resource_id=price_list)["data"]
    assert finish(server, cl, "imports", priced["id"])["errors_log"] == {}
    assert codes(cl, "skus", "FLOW-") == FLOW
    assert codes(cl, "prices", "FLOW-", "sku_code") == FLOW

    export = create(cl, "exports", resource_type="skus", filters={"code_start": "FLOW-"},
                    includes=["prices"])["data"]
    assert export["attributes"]["records_count"] == 5
    done = finish(server, cl, "exports", export["id"])
    assert done["status"] == "completed"
    rows = json.loads(gunzip(download(done["attachment_url"])))
    assert [r["code"] for r in rows] == FLOW
    assert [r["shipping_category_id"] for r in rows] == [standard] * 5
    assert [[p["amount_cents"] for p in r["prices"]] for r in rows] == [[1000 + i] for i in range(5)]

    cleanup = create(cl, "cleanups", resource_type="skus",
                     filters={"code_start": "FLOW-"})["data"]
    assert cleanup["attributes"]["records_count"] == 5
    gone = finish(server, cl, "cleanups", cleanup["id"])
    assert (gone["status"], gone["processed_count"], gone["errors_count"]) == ("completed", 5, 0)
    assert codes(cl, "skus", "FLOW-") == []
    assert codes(cl, "prices", "FLOW-", "sku_code") == []  # skus → prices (§1.4 cascade)

    again = job(cl, "exports", export["id"])["attachment_url"]  # a fresh link, same snapshot
    assert [r["code"] for r in json.loads(gunzip(download(again)))] == FLOW


def test_items_are_applied_while_the_import_runs(cl: Api, server: MockServer) -> None:
    items = [{"code": f"STEP-{i:02d}", "name": "n"} for i in range(10)]
    imp = create(cl, "imports", resource_type="skus", inputs=items)["data"]
    assert codes(cl, "skus", "STEP-") == []
    server.clock.advance(1.0 + 1.05)  # pending 1 s, then half of 2 s + 10 × 0.01 s
    assert job(cl, "imports", imp["id"])["processed_count"] == 5
    assert codes(cl, "skus", "STEP-") == [f"STEP-{i:02d}" for i in range(5)]
    made = records(cl, "skus", **{"filter[q][code_eq]": "STEP-04"})[0]["attributes"]
    assert made["created_at"] == "2026-01-01T00:00:02.050Z"  # the instant item 5 was processed


def test_a_copy_of_a_running_import_behind_this_process_applies_every_row(
        cl: Api, server: MockServer) -> None:
    """Rows are let go once applied; a copy of the import at an earlier count (what a restart
    or another replica reads back) decodes its inputs again and applies the rest as sent."""
    items = [{"code": f"BACK-{i:02d}", "name": f"row {i}"} for i in range(10)]
    imp = create(cl, "imports", resource_type="skus", inputs=items)["data"]
    server.clock.advance(1.0 + 1.05)
    assert job(cl, "imports", imp["id"])["processed_count"] == 5
    (running,) = [j for t in server.app[STORE].tenants()
                  if (j := t.get("imports", imp["id"])) is not None]
    assert running.run is not None and running.run.applied == 5
    running.run.applied = 3  # as a copy of the version before rows 4 and 5 were applied
    assert finish(server, cl, "imports", imp["id"])["errors_count"] == 0
    made = records(cl, "skus", **{"filter[q][code_start]": "BACK-", "page[size]": "25"})
    assert sorted((r["attributes"]["code"], r["attributes"]["name"]) for r in made) == \
        [(f"BACK-{i:02d}", f"row {i}") for i in range(10)]


def test_csv_import_with_relationship_columns(cl: Api, server: MockServer) -> None:
    standard = first_id(cl, "shipping_categories", code_eq="STANDARD")
    text = f'code,name,shipping_category.id\nCSV-1,"Shirt, red",{standard}\nCSV-2,Cap,{standard}\n'
    imp = create(cl, "imports", resource_type="skus", format="csv", inputs=text)["data"]
    assert imp["attributes"]["inputs_size"] == 2 and imp["attributes"]["inputs"] == text
    assert finish(server, cl, "imports", imp["id"])["processed_count"] == 2
    made = {r["attributes"]["code"]: r["attributes"] for r in records(
        cl, "skus", **{"filter[q][code_start]": "CSV-"})}
    assert made["CSV-1"]["name"] == "Shirt, red"
    assert {a["shipping_category_id"] for a in made.values()} == {standard}


def test_csv_mistakes_are_refused_at_creation(cl: Api) -> None:
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": "code,name\nA,B\n"}}})
    assert r.status_code == 422  # notes: commercelayer_api.md §2.3 — CSV needs format csv
    err = r.json()["errors"][0]
    assert err["source"]["pointer"] == "/data/attributes/inputs" and "format" in err["detail"]
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "format": "csv", "inputs": "code,name\nA,B,C\n"}}})
    assert r.status_code == 422 and "line 2" in r.json()["errors"][0]["detail"]
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "format": "csv", "inputs": [{"code": "A"}]}}})
    assert r.status_code == 422 and "CSV string" in r.json()["errors"][0]["detail"]


def _bad_batch() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"code": f"ERR-{i}", "name": "n"} for i in range(10)]
    items[2] = {"code": "ERR-2"}  # no name
    items[5] = {"code": "ERR-5", "name": "n", "shipping_category_id": "zwzQeFBrNj"}
    items[7] = {"code": "ERR-7"}
    return items


def test_item_errors_are_logged_and_interrupt_past_ten_percent(cl: Api, server: MockServer) -> None:
    imp = create(cl, "imports", resource_type="skus", inputs=_bad_batch())["data"]
    a = finish(server, cl, "imports", imp["id"], step=0.5)
    assert a["status"] == "interrupted"  # notes: commercelayer_api.md §2.1 — > 10% errors
    assert a["errors_log"] == {"ERR-2": {"name": ["can't be blank"]},
                               "ERR-5": {"shipping_category": ["must exist"]}}
    assert (a["processed_count"], a["errors_count"]) == (4, 2)  # 6 = index of the last item
    assert a["interrupted_at"] == "2026-01-01T00:00:02.260Z"  # when item 6 was processed
    assert codes(cl, "skus", "ERR-") == ["ERR-0", "ERR-1", "ERR-3", "ERR-4"]
    server.clock.advance(3600)
    assert job(cl, "imports", imp["id"])["processed_count"] == 4


def test_skip_errors_lets_the_import_finish(cl: Api, server: MockServer) -> None:
    imp = create(cl, "imports", resource_type="skus", inputs=_bad_batch(),
                 skip_errors=True)["data"]
    a = finish(server, cl, "imports", imp["id"])
    assert (a["status"], a["processed_count"], a["errors_count"]) == ("completed", 7, 3)
    assert set(a["errors_log"]) == {"ERR-2", "ERR-5", "ERR-7"}
    assert len(codes(cl, "skus", "ERR-")) == 7


def test_imports_upsert_by_unique_key(cl: Api, server: MockServer) -> None:
    before = len(records(cl, "skus"))
    price_list = first_id(cl, "price_lists")
    create(cl, "imports", resource_type="skus", inputs=[
        {"code": "DEMO-TSHIRT-M", "name": "Renamed"}, {"code": "NEW-1", "name": "New"}])
    create(cl, "imports", resource_type="customers", inputs=[
        {"email": "jane.doe@example.com", "status": "prospect"}])
    create(cl, "imports", resource_type="prices", inputs=[
        {"sku_code": "DEMO-TSHIRT-M", "price_list_id": price_list, "amount_cents": 100},
        {"sku_code": "DEMO-TSHIRT-M", "price_list_id": price_list, "amount_cents": 200}])
    server.clock.advance(60)
    assert len(records(cl, "skus")) == before + 1
    shirt = records(cl, "skus", **{"filter[q][code_eq]": "DEMO-TSHIRT-M"})
    assert [s["attributes"]["name"] for s in shirt] == ["Renamed"]
    jane = records(cl, "customers", **{"filter[q][email_eq]": "jane.doe@example.com"})
    assert [c["attributes"]["status"] for c in jane] == ["prospect"]
    price = records(cl, "prices", **{"filter[q][sku_code_eq]": "DEMO-TSHIRT-M"})
    assert [p["attributes"]["amount_cents"] for p in price] == [200]  # one price, updated


def test_an_unknown_id_is_an_item_error(cl: Api, server: MockServer) -> None:
    imp = create(cl, "imports", resource_type="tags", skip_errors=True,
                 inputs=[{"id": "nope", "name": "ghost"}, {"name": "real"}])["data"]
    a = finish(server, cl, "imports", imp["id"])
    assert a["errors_log"] == {"ghost": {"id": ["is invalid"]}} and a["processed_count"] == 1


def test_cleanup_errors_and_auto_interrupt(cl: Api, server: MockServer) -> None:
    used = {b["attributes"]["sku_list_id"] for b in records(cl, "bundles")}
    lists = [r["id"] for r in records(cl, "sku_lists", sort="id")]
    assert used and set(lists) >= used  # the demo's bundles use some of its sku lists
    cleanup = create(cl, "cleanups", resource_type="sku_lists")["data"]
    a = finish(server, cl, "cleanups", cleanup["id"])
    # 3 lists: one error is over 10%, so the first list a bundle uses stops the cleanup
    first_used = next(i for i, rid in enumerate(lists) if rid in used)
    assert (a["status"], a["processed_count"], a["errors_count"]) == \
        ("interrupted", first_used, 1)
    name = next(r["attributes"]["name"] for r in records(cl, "sku_lists")
                if r["id"] == lists[first_used])
    assert a["errors_log"] == {name: {"base": [
        "Cannot delete record because dependent bundles exist"]}}
    assert [r["id"] for r in records(cl, "sku_lists", sort="id")] == lists[first_used:]


def test_results_never_depend_on_how_often_clients_poll(server: MockServer, cl: Api,
                                                       checker: ResponseChecker) -> None:
    # Two namespaces get the same jobs at the same instants; one is polled four times a
    # second, the other not at all. Import b rewrites half of a's skus while a still runs, and
    # the cleanup deletes some of them while b runs: the order of effects matters.
    polled, quiet = (Api(server.url, checker, {**cl.headers, "X-Mock-Namespace": ns})
                     for ns in ("polled", "quiet"))
    steps = [
        ("imports", {"resource_type": "skus", "inputs": [
            {"code": f"RACE-{i:03d}", "name": f"first {i}"} for i in range(300)]}),
        ("imports", {"resource_type": "skus", "inputs": [
            {"code": f"RACE-{i:03d}", "name": f"second {i}"} for i in range(0, 300, 2)]}),
        ("cleanups", {"resource_type": "skus", "filters": {"code_start": "RACE-0"}}),
    ]
    made: dict[str, list[tuple[str, str]]] = {"polled": [], "quiet": []}
    for kind, attrs in steps:
        for name, api in (("polled", polled), ("quiet", quiet)):
            made[name].append((kind, create(api, kind, **attrs)["data"]["id"]))
        for _ in range(6):
            server.clock.advance(0.25)
            polled.get("/api/imports")
    for _ in range(40):
        server.clock.advance(0.25)
        polled.get("/api/cleanups")
    server.clock.advance(3600)

    def state(name: str, api: Api) -> Any:
        jobs = [job(api, kind, job_id) for kind, job_id in made[name]]
        for a in jobs:
            a.pop("attachment_url", None)  # names the namespace
        skus = [(r["attributes"]["code"], r["attributes"]["name"], r["attributes"]["created_at"],
                 r["attributes"]["updated_at"]) for r in records(api, "skus", **{
                     "filter[q][code_start]": "RACE-"})]
        return jobs, skus

    polled_state = state("polled", polled)
    assert polled_state == state("quiet", quiet)
    jobs, skus = polled_state
    assert [a["status"] for a in jobs] == ["completed"] * 3
    assert jobs[2]["processed_count"] == jobs[2]["records_count"] == 100
    assert {n.split()[0] for _, n, _, _ in skus} == {"first", "second"}



def test_advancing_an_import_to_completed_applies_every_item_now(cl: Api) -> None:
    items = [{"code": f"JUMP-{i:02d}", "name": "n"} for i in range(10)]
    imp = create(cl, "imports", resource_type="skus", inputs=items)["data"]
    assert codes(cl, "skus", "JUMP-") == []  # settled once: nothing due yet
    r = cl.post(f"/_mock/jobs/imports/{imp['id']}/advance", json={"to": "completed"},
                headers=ADMIN)
    assert r.status_code == 200, r.text
    assert job(cl, "imports", imp["id"])["processed_count"] == 10
    assert codes(cl, "skus", "JUMP-") == [f"JUMP-{i:02d}" for i in range(10)]


def test_a_released_stall_applies_the_items_it_held_back(cl: Api, server: MockServer) -> None:
    items = [{"code": f"HOLD-{i:02d}", "name": "n"} for i in range(10)]
    imp = create(cl, "imports", resource_type="skus", inputs=items,
                 metadata={"mock_scenario": "stall=50"})["data"]
    server.clock.advance(600)
    held = codes(cl, "skus", "HOLD-")
    assert job(cl, "imports", imp["id"])["status"] == "in_progress" and 0 < len(held) < 10
    r = cl.post(f"/_mock/jobs/imports/{imp['id']}/scenario", json={"release": True},
                headers=ADMIN)
    assert r.status_code == 200, r.text
    done = finish(server, cl, "imports", imp["id"])
    assert (done["status"], done["processed_count"]) == ("completed", 10)
    assert codes(cl, "skus", "HOLD-") == [f"HOLD-{i:02d}" for i in range(10)]
