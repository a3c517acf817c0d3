"""Export files and import inputs: gzip served by the mock at signed links valid 5 virtual minutes."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.keys import SPEC

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api
from .fixtures.records import create, download, finish, first_id, gunzip, job, records


def _completed_export(cl: Api, server: MockServer, **attrs: object) -> dict[str, object]:
    export = create(cl, "exports", **{"resource_type": "skus", **attrs})["data"]
    return {"id": export["id"], **finish(server, cl, "exports", export["id"])}


def test_link_is_absolute_on_the_mocks_host_and_serves_raw_gzip(cl: Api, server: MockServer) -> None:
    done = _completed_export(cl, server)
    url = str(done["attachment_url"])
    assert url.startswith(f"{server.url}/_files/")
    r = download(url)
    assert r.headers["Content-Type"] == "application/gzip"
    assert r.headers["Content-Disposition"] == f'attachment; filename="exports-{done["id"]}.json.gz"'
    rows = json.loads(gunzip(r))  # no Content-Encoding: the client gunzips, as the CLI does
    assert len(rows) == done["records_count"] == len(records(cl, "skus"))
    assert set(rows[0]) >= {"id", "code", "name", "created_at", "updated_at"}


def test_link_expires_after_five_virtual_minutes_and_a_new_read_gives_a_fresh_one(
        cl: Api, server: MockServer, checker: ResponseChecker) -> None:
    done = _completed_export(cl, server)
    url = str(done["attachment_url"])
    server.clock.advance(299)
    assert download(url).status_code == 200
    server.clock.advance(2)
    r = download(url)
    checker.check(r)  # a declared status with a JSON:API error body
    assert r.status_code == 403
    err = r.json()["errors"][0]
    assert err["code"] == "REQUEST_EXPIRED" and err["status"] == "403"
    assert "expired" in err["detail"] and "Fetch the job again" in err["detail"]
    fresh = job(cl, "exports", str(done["id"]))["attachment_url"]
    assert fresh != url and download(fresh).status_code == 200


@pytest.mark.parametrize("change", ["signature", "non-ascii", "seed-key", "expires", "drop"])
def test_a_tampered_forged_or_unsigned_link_is_refused(cl: Api, server: MockServer,
                                                       change: str) -> None:
    url = str(_completed_export(cl, server)["attachment_url"])
    base, _, query = url.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    file_id = base.rsplit("/", 1)[1]
    if change == "signature":
        params["signature"] = "0" * 40
    elif change == "non-ascii":
        params["signature"] = "é"
    elif change == "seed-key":  # signed with the key anyone could derive from the seed
        expires = str(int(params["expires"]) + 10 * 365 * 86_400_000)
        key = hashlib.sha256(b"mock-server files/1").digest()
        params = {"expires": expires, "signature": hmac.digest(
            key, f"{file_id}\n{expires}".encode(), "sha256").hex()[:40]}
    elif change == "expires":
        params["expires"] = str(int(params["expires"]) + 3_600_000)  # an hour more
    else:
        params = {}
    r = requests.get(base, params=params, timeout=10)
    assert r.status_code == 403 and r.json()["errors"][0]["status"] == "403"


def test_unknown_or_deleted_files_are_404(cl: Api, server: MockServer,
                                         checker: ResponseChecker) -> None:
    r = requests.get(f"{server.url}/_files/nothing.json.gz", timeout=10)
    checker.check(r)
    assert r.status_code == 404
    done = _completed_export(cl, server)
    assert cl.delete(f"/api/exports/{done['id']}").status_code == 204
    r = download(str(done["attachment_url"]))
    assert r.status_code == 404 and r.json()["errors"][0]["status"] == "404"


def test_csv_fields_includes_and_dry_data(cl: Api, server: MockServer) -> None:
    price_list = first_id(cl, "price_lists")
    create(cl, "imports", resource_type="prices", parent_resource_id=price_list, inputs=[
        {"sku_code": "DEMO-TSHIRT-M", "amount_cents": 1900},
        {"sku_code": "DEMO-TSHIRT-L", "amount_cents": 2100}])
    server.clock.advance(60)
    done = _completed_export(cl, server, format="csv", filters={"code_start": "DEMO-TSHIRT"},
                             fields=["code", "name"], includes=["prices"])
    assert str(done["attachment_url"]).split("?")[0].endswith(".csv.gz")
    rows = list(csv.DictReader(io.StringIO(gunzip(download(str(done["attachment_url"]))).decode())))
    assert [r["code"] for r in rows] == ["DEMO-TSHIRT-M", "DEMO-TSHIRT-L"]
    assert set(rows[0]) >= {"code", "name", "prices.id", "prices.amount_cents"}
    assert [r["prices.amount_cents"] for r in rows] == ["1900", "2100"]
    dry = _completed_export(cl, server, filters={"code_eq": "DEMO-TSHIRT-M"}, dry_data=True)
    (row,) = json.loads(gunzip(download(str(dry["attachment_url"]))))
    assert row["code"] == "DEMO-TSHIRT-M" and "id" not in row and "created_at" not in row
    assert "description" not in row  # blank, so dropped


def test_the_file_holds_the_records_as_they_were_at_creation(cl: Api, server: MockServer) -> None:
    export = create(cl, "exports", resource_type="skus",
                    filters={"code_eq": "DEMO-TSHIRT-L"})["data"]
    create(cl, "imports", resource_type="skus", inputs=[{"code": "DEMO-TSHIRT-L", "name": "Later"}])
    body = {"data": {"type": "exports", "id": export["id"], "attributes": {"_interrupt": True}}}
    assert cl.patch(f"/api/exports/{export['id']}", json=body).json()["data"]["attributes"][
        "attachment_url"] is None
    server.clock.advance(60)
    assert records(cl, "skus", **{"filter[q][code_eq]": "DEMO-TSHIRT-L"})[0]["attributes"][
        "name"] == "Later"
    body["data"]["attributes"] = {"_start": True}
    assert cl.patch(f"/api/exports/{export['id']}", json=body).status_code == 200
    done = finish(server, cl, "exports", export["id"])
    assert done["status"] == "completed"
    (row,) = json.loads(gunzip(download(done["attachment_url"])))
    assert row["name"] == "Demo T-shirt (L)"


def test_failed_exports_have_no_file(cl: Api, server: MockServer) -> None:
    export = create(cl, "exports", resource_type="skus", metadata={"mock_scenario": "fail_at=10"})
    done = finish(server, cl, "exports", export["data"]["id"])
    assert done["status"] == "failed" and done["attachment_url"] is None


def test_bad_export_paths_and_formats_are_422(cl: Api) -> None:
    for attrs, pointer in (({"fields": ["nope"]}, "/data/attributes/fields"),
                           ({"includes": ["nope"]}, "/data/attributes/includes"),
                           ({"format": "xml"}, "/data/attributes/format"),
                           ({"filters": {"nope_eq": 1}}, "/data/attributes/filters/nope_eq"),
                           ({"resource_type": "promotions"}, "/data/attributes/resource_type")):
        r = cl.post("/api/exports", json={"data": {"type": "exports", "attributes": {
            "resource_type": "skus", **attrs}}})
        assert r.status_code == 422, attrs
        assert r.json()["errors"][0]["source"]["pointer"] == pointer
    assert cl.get("/api/exports").json()["meta"]["record_count"] == 0  # nothing half-made


def test_import_inputs_are_a_gzipped_copy_once_started(cl: Api, server: MockServer) -> None:
    inputs = [{"code": "GZ-1", "name": "A"}, {"code": "GZ-2", "name": "B"}]
    imp = create(cl, "imports", resource_type="skus", inputs=inputs)["data"]
    assert imp["attributes"]["attachment_url"] is None  # pending: not uploaded yet
    server.clock.advance(1)
    url = job(cl, "imports", imp["id"])["attachment_url"]
    assert json.loads(gunzip(download(url))) == inputs
    text = "code,name\nGZ-3,C\n"
    csv_imp = create(cl, "imports", resource_type="skus", format="csv", inputs=text)["data"]
    done = finish(server, cl, "imports", csv_imp["id"])
    assert gunzip(download(done["attachment_url"])).decode() == text


def test_an_ended_import_shows_and_serves_its_inputs_as_sent(cl: Api, server: MockServer) -> None:
    """An ended import keeps its inputs compressed: reading, listing and downloading them give
    back what was sent, byte for byte in meaning (huge integers, a lone surrogate, many rows)."""
    inputs = [{"code": f"END-{i:03d}", "name": f"Ended row {i}", "weight": 10 ** 20 + i,
               "note": "\ud800" if i == 7 else "plain text " * (i % 4)} for i in range(60)]
    imp = create(cl, "imports", resource_type="skus", inputs=inputs, skip_errors=True)["data"]
    done = finish(server, cl, "imports", imp["id"])
    assert done["status"] == "completed" and done["inputs"] == inputs
    listed = cl.get("/api/imports", params={"filter[q][id_eq]": imp["id"]}).json()["data"]
    assert [j["attributes"]["inputs"] for j in listed] == [inputs]
    assert json.loads(gunzip(download(done["attachment_url"]))) == inputs
    server.clock.advance(3600)  # a new link window: rendered again from what is kept
    again = job(cl, "imports", imp["id"])
    assert again["inputs"] == inputs and json.loads(gunzip(download(again["attachment_url"]))) == inputs


def test_links_keep_the_namespace_prefix_and_the_public_url() -> None:
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO)
    for public_url, prefix in ((None, "/_ns/team-a"), ("https://mock.example.test", "")):
        with MockServer(settings.with_overrides(public_url=public_url)) as srv:
            checker = ResponseChecker(srv.app[SPEC])
            cl = Api(srv.url + prefix, checker, {"Authorization": f"Bearer {srv.token()}",
                                                 "Accept": JSONAPI, "Content-Type": JSONAPI})
            url = str(_completed_export(cl, srv)["attachment_url"])
            assert url.startswith(f"{public_url or srv.url}{prefix}/_files/")
            parts = urlparse(url)
            assert download(f"{srv.url}{parts.path}?{parts.query}").status_code == 200
            assert not checker.problems
