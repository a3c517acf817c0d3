"""The official clients' request sequences, replayed on the virtual clock (advance, never sleep).

Requests, headers and timings are those recorded from @commercelayer/sdk 7.12.1 and the CLI
plugins (exports 4.0.5, imports 4.4.7, cleanups 3.2.7) in
notes: schemathesis_and_clients.md §B2 (what the SDK sends) and §B5 (how the CLIs poll).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from mock_server import MockServer

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, Api
from .fixtures.records import codes, gunzip

# §B2: undici's defaults plus the SDK's three headers, Content-Type on GETs too
SDK_HEADERS = {"accept": JSONAPI, "content-type": JSONAPI, "user-agent": "node",
               "accept-language": "*", "sec-fetch-mode": "cors",
               "accept-encoding": "gzip, deflate"}
EXPORTS_POLL, IMPORTS_POLL = 0.6, 1.05  # §B5: requestRateLimitDelay(); max(1000, 600) + 50 ms


def _client(server: MockServer, checker: ResponseChecker, agent: str) -> Api:
    """A client holding a token from POST /oauth/token, as the CLIs get one."""
    r = requests.post(f"{server.url}/oauth/token", timeout=10,
                      json={"grant_type": "client_credentials", "client_id": "cli-client"})
    checker.check(r)
    token = r.json()["access_token"]
    return Api(server.url, checker, {**SDK_HEADERS, "user-agent": agent,
                                     "authorization": f"Bearer {token}"})


def _data(r: requests.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()["data"]


def test_the_token_carries_what_the_clis_decode(server: MockServer, checker: ResponseChecker
                                                ) -> None:
    for kwargs in ({"json": {"grant_type": "client_credentials", "client_id": "c1"}},
                   {"data": {"grant_type": "client_credentials", "client_id": "c1"}}):
        r = requests.post(f"{server.url}/oauth/token", timeout=10, **kwargs)  # type: ignore[arg-type]
        checker.check(r)
        body = r.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope", "created_at"}
        assert body["token_type"] == "bearer" and body["expires_in"] > 0
        payload = body["access_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["organization"]["slug"] == "acme"
        assert claims["application"]["kind"] in ("integration", "cli")  # CLI-E checkApplication
        assert claims["test"] is True and claims["exp"] > body["created_at"]


def test_sdk_calls(server: MockServer, checker: ResponseChecker) -> None:
    sdk = _client(server, checker, "node")
    # imports.create({resource_type, format, inputs, reference}): relationships always sent
    imp = _data(sdk.post("/api/imports", data=json.dumps({"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "format": "json", "inputs": [{"code": "SKU1", "name": "A"}],
        "reference": "r1"}, "relationships": {}}})), 201)
    assert imp["attributes"]["inputs"] == [{"code": "SKU1", "name": "A"}]
    assert imp["attributes"]["metadata"] == {} and imp["attributes"]["errors_log"] == {}
    # imports.retrieve(id, {fields: [...]}): brackets and commas percent-encoded
    got = _data(sdk.get(f"/api/imports/{imp['id']}?fields%5Bimports%5D=status%2Cprocessed_count"))
    assert set(got["attributes"]) == {"status", "processed_count"}
    # imports.list({filters, pageSize: 25, pageNumber: 1, sort: {created_at: 'desc'}})
    r = sdk.get("/api/imports?sort=-created_at&page%5Bnumber%5D=1&page%5Bsize%5D=25"
                "&filter%5Bq%5D%5Bstatus_eq%5D=pending&filter%5Bq%5D%5Bcreated_at_gt%5D=2024-01-01")
    assert [d["id"] for d in _data(r)] == [imp["id"]]
    assert r.json()["meta"] == {"record_count": 1, "page_count": 1}
    # exports.create({resource_type: 'orders', format: 'csv', filters, includes, dry_data})
    exp = _data(sdk.post("/api/exports", data=json.dumps({"data": {"type": "exports", "attributes": {
        "resource_type": "orders", "format": "csv", "filters": {"status_eq": "placed"},
        "includes": ["customer"], "dry_data": False}, "relationships": {}}})), 201)
    assert exp["attributes"]["records_count"] > 0
    # exports._interrupt(id): id last in the body; the answer itself says interrupted
    r = sdk.patch(f"/api/exports/{exp['id']}", data=json.dumps({"data": {
        "type": "exports", "attributes": {"_interrupt": True}, "relationships": {},
        "id": exp["id"]}}))
    assert _data(r)["attributes"]["status"] == "interrupted"
    # cleanups.list(): page[number]=1 on every list
    r = sdk.get("/api/cleanups?page%5Bnumber%5D=1")
    assert _data(r) == [] and r.json()["meta"] == {"record_count": 0, "page_count": 0}
    r = sdk.get("/api/skus?page%5Bnumber%5D=1")
    assert len(_data(r)) == 10 and r.json()["meta"]["record_count"] > 10


def test_sdk_webhook_calls(server: MockServer, checker: ResponseChecker) -> None:
    """The SDK's webhooks resource (src/resources/webhooks.ts, notes: webhooks_state_browser.md
    §1): create({topic, callback_url}), retrieve, list with a filter, the _reset_circuit
    trigger, last_event_callbacks, delete; as it sends them (relationships always present)."""
    sdk = _client(server, checker, "node")
    hook = _data(sdk.post("/api/webhooks", data=json.dumps({"data": {"type": "webhooks",
        "attributes": {"topic": "imports.complete", "callback_url": "https://example.com/cb"},
        "relationships": {}}})), 201)
    assert hook["attributes"]["shared_secret"] and hook["attributes"]["circuit_state"] == "closed"
    got = _data(sdk.get(f"/api/webhooks/{hook['id']}?fields%5Bwebhooks%5D=topic%2Ccircuit_state"))
    assert got["attributes"] == {"topic": "imports.complete", "circuit_state": "closed"}
    r = sdk.get("/api/webhooks?filter%5Bq%5D%5Btopic_eq%5D=imports.complete&page%5Bnumber%5D=1")
    assert [d["id"] for d in _data(r)] == [hook["id"]]
    r = sdk.patch(f"/api/webhooks/{hook['id']}", data=json.dumps({"data": {
        "type": "webhooks", "attributes": {"_reset_circuit": True}, "relationships": {},
        "id": hook["id"]}}))
    assert _data(r)["attributes"]["circuit_failure_count"] == 0
    r = sdk.get(f"/api/webhooks/{hook['id']}/last_event_callbacks?page%5Bnumber%5D=1")
    assert _data(r) == []
    assert sdk.delete(f"/api/webhooks/{hook['id']}").status_code == 204


def test_exports_cli_create_poll_and_download(server: MockServer, checker: ResponseChecker
                                             ) -> None:
    cli = _client(server, checker, "CLI-exports/4.0.5")
    # exports:create -t skus -X out.json
    exp = _data(cli.post("/api/exports", json={"data": {"type": "exports", "attributes": {
        "resource_type": "skus", "format": "json", "dry_data": False}}}), 201)
    server.clock.advance(2.0)  # the CLI waits 2000 ms, then needs records_count
    seen = _data(cli.get(f"/api/exports/{exp['id']}"))["attributes"]
    assert seen["records_count"] > 0
    progress = [seen["progress"]]
    polls = 0
    while seen["status"] not in ("completed", "interrupted"):
        server.clock.advance(EXPORTS_POLL)
        seen = _data(cli.get(f"/api/exports/{exp['id']}"))["attributes"]
        progress.append(seen["progress"])
        polls += 1
        assert polls < 100
    assert seen["status"] == "completed" and progress[-1] == 100
    assert [p for p in progress if p is not None] == sorted(p for p in progress if p is not None)
    # axios GET of attachment_url (no token), then gunzip
    r = requests.get(seen["attachment_url"], timeout=10, headers={
        "Accept": "application/json, text/plain, */*", "User-Agent": "axios/1.21.1"})
    rows = json.loads(gunzip(r))
    assert len(rows) == seen["records_count"]


def test_imports_cli_create_and_poll(server: MockServer, checker: ResponseChecker) -> None:
    cli = _client(server, checker, "CLI-imports/4.4.7")
    assert _data(cli.get("/api/application"))["attributes"]["kind"] == "integration"
    for fmt, inputs in (("json", [{"code": "CLI-1", "name": "A"}, {"code": "CLI-2", "name": "B"}]),
                        ("csv", "code,name\nCLI-3,C\nCLI-4,D")):  # --csv: one string, \n-joined
        attrs: dict[str, Any] = {"resource_type": "skus", "format": fmt, "inputs": inputs,
                                 "reference": "grp1-0001", "reference_origin": "cli-plugin-imports",
                                 "metadata": {"chunk_number": "1/1", "chunk_items": "1-2",
                                              "group_id": "grp1"}}
        imp = _data(cli.post("/api/imports", json={"data": {"type": "imports",
                                                             "attributes": attrs}}), 201)
        assert imp["attributes"]["inputs_size"] == 2
        while True:
            server.clock.advance(IMPORTS_POLL)
            seen = _data(cli.get(f"/api/imports/{imp['id']}"))["attributes"]
            assert {"status", "processed_count", "warnings_count", "errors_count"} <= set(seen)
            if seen["status"] in ("completed", "interrupted"):
                break
        assert (seen["status"], seen["processed_count"], seen["errors_count"]) == ("completed", 2, 0)
        assert seen["metadata"]["group_id"] == "grp1"
    assert codes(cli, "skus", "CLI-") == ["CLI-1", "CLI-2", "CLI-3", "CLI-4"]


def test_cleanups_cli_counts_finds_the_last_id_and_cleans(server: MockServer,
                                                         checker: ResponseChecker) -> None:
    cli = _client(server, checker, "CLI-cleanups/3.2.7")
    _data(cli.get("/api/application"))
    where = "filter%5Bq%5D%5Bcode_start%5D=DEMO-TSHIRT"  # cleanups:create -t skus -w code_start=…
    r = cli.get(f"/api/skus?page%5Bsize%5D=1&page%5Bnumber%5D=1&{where}")
    count = r.json()["meta"]["record_count"]
    assert count == 2
    last = _data(cli.get(f"/api/skus?sort=id&page%5Bnumber%5D={count}&page%5Bsize%5D=1&{where}"))
    last_id = last[0]["id"]
    cleanup = _data(cli.post("/api/cleanups", json={"data": {"type": "cleanups", "attributes": {
        "resource_type": "skus", "filters": {"code_start": "DEMO-TSHIRT", "id_lteq": last_id},
        "reference": "grp2", "reference_origin": "cli-plugin-cleanups",
        "metadata": {"group_id": "grp2"}}}}), 201)
    assert cleanup["attributes"]["records_count"] == count  # sort=id and id_lteq agree
    while True:
        server.clock.advance(IMPORTS_POLL)
        seen = _data(cli.get(f"/api/cleanups/{cleanup['id']}"))["attributes"]
        if seen["status"] in ("completed", "interrupted"):
            break
    assert (seen["status"], seen["processed_count"], seen["errors_count"]) == ("completed", 2, 0)
    assert cli.get(f"/api/skus?page%5Bsize%5D=1&page%5Bnumber%5D=1&{where}").json()["meta"][
        "record_count"] == 0


def test_sort_by_id_and_id_lteq_agree_on_every_page(server: MockServer, checker: ResponseChecker
                                                    ) -> None:
    cli = _client(server, checker, "CLI-cleanups/3.2.7")
    total = cli.get("/api/stock_items?page%5Bsize%5D=1&page%5Bnumber%5D=1").json()["meta"][
        "record_count"]
    for n in range(1, total + 1, 7):
        nth = _data(cli.get(f"/api/stock_items?sort=id&page%5Bnumber%5D={n}&page%5Bsize%5D=1"))
        r = cli.get(f"/api/stock_items?page%5Bsize%5D=1&filter%5Bq%5D%5Bid_lteq%5D={nth[0]['id']}")
        assert r.json()["meta"]["record_count"] == n
