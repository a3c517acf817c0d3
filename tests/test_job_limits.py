"""Organization-wide limits: job size, empty exports, 10 at once per type; --no-limits lifts them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server import MockServer, Settings
from mock_server.keys import SPEC

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api, make_token
from .fixtures.records import create

TOO_BIG = {"error": "less_than_or_equal_to", "value": 10_001, "count": 10_000}


def vendor_meta(meta: dict[str, object]) -> dict[str, object]:
    """An error's meta as the vendor gives it: the mock's hint on how to lift a limit aside
    (it must name both ways)."""
    hint = meta.pop("mock_hint", None)
    assert meta.get("error") != "less_than_or_equal_to" or (
        isinstance(hint, str) and "--no-limits" in hint and "max_" in hint), hint
    return meta


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A client of an organization with 10,001 tags (one more than a job may hold)."""
    path = Path(tmp_path_factory.mktemp("fixtures")) / "big.yaml"
    path.write_text("generate: {tags: 10001, skus: 3}\n", encoding="utf-8")
    settings = Settings(port=0, seed=1, frozen=True, start=START_ISO, fixtures=str(path))
    with MockServer(settings) as srv:
        checker = ResponseChecker(srv.app[SPEC])
        yield Api(srv.url, checker, {"Authorization": f"Bearer {make_token()}",
                                     "Accept": JSONAPI, "Content-Type": JSONAPI})
        assert not checker.problems, checker.problems


def test_more_than_10000_records_is_refused(big: Api) -> None:
    r = big.post("/api/exports", json={"data": {"type": "exports", "attributes": {
        "resource_type": "tags"}}})
    assert r.status_code == 422  # notes: commercelayer_api.md §2.4 and the §4 error example
    err = r.json()["errors"][0]
    assert vendor_meta(err["meta"]) == TOO_BIG
    assert err["source"]["pointer"] == "/data/attributes/records_count"
    assert err["code"] == "VALIDATION_ERROR" and err["detail"].startswith("records_count")
    r = big.post("/api/exports", json={"data": {"type": "exports", "attributes": {
        "resource_type": "tags", "filters": {"name_not_eq": "nothing"}}}})
    assert r.status_code == 422 and vendor_meta(r.json()["errors"][0]["meta"]) == TOO_BIG
    filtered = create(big, "exports", resource_type="tags", filters={"id_lt": "zzzzzzzzzz",
                                                                      "name_end": "1"})
    assert 0 < filtered["data"]["attributes"]["records_count"] < 10_000


def test_a_csv_import_of_more_than_10000_rows_is_refused(big: Api) -> None:
    text = "name\n" + "\n".join(f"t{i}" for i in range(10_001))
    r = big.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "tags", "format": "csv", "inputs": text}}})
    assert r.status_code == 422 and vendor_meta(r.json()["errors"][0]["meta"]) == TOO_BIG


def test_an_export_of_nothing_is_refused(cl: Api) -> None:
    r = cl.post("/api/exports", json={"data": {"type": "exports", "attributes": {
        "resource_type": "skus", "filters": {"code_eq": "NO-SUCH-SKU"}}}})
    assert r.status_code == 422  # notes: commercelayer_api.md §2.4 "Empty job"
    assert r.json()["errors"][0]["meta"] == {"error": "greater_than", "value": 0, "count": 0}
    assert create(cl, "cleanups", resource_type="skus",
                  filters={"code_eq": "NO-SUCH-SKU"})["data"]["attributes"]["records_count"] == 0


@pytest.mark.parametrize("kind", ["imports", "exports", "cleanups"])
def test_ten_at_once_per_type_then_422_until_one_ends(cl: Api, server: MockServer,
                                                      kind: str) -> None:
    attrs = {"resource_type": "skus", "filters": {"code_eq": "DEMO-TSHIRT-M"}}
    if kind == "imports":
        attrs = {"resource_type": "tags", "inputs": [{"name": "x"}]}
    for _ in range(10):
        create(cl, kind, **attrs)
    r = cl.post(f"/api/{kind}", json={"data": {"type": kind, "attributes": attrs}})
    assert r.status_code == 422 and "10" in r.json()["errors"][0]["detail"]
    assert vendor_meta(r.json()["errors"][0]["meta"]) == {
        "error": "less_than_or_equal_to", "value": 11, "count": 10}
    if kind == "exports":  # the limit is per job type
        create(cl, "imports", resource_type="tags", inputs=[{"name": "x"}])
    else:
        create(cl, "exports", resource_type="skus")
    server.clock.advance(3600)
    create(cl, kind, **attrs)


def test_no_limits_lifts_size_and_concurrency() -> None:
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, limits=False,
                        max_job_size=5, max_active_jobs=1)
    with MockServer(settings) as srv:
        cl = Api(srv.url, ResponseChecker(srv.app[SPEC]), {
            "Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI})
        for _ in range(3):
            create(cl, "exports", resource_type="skus")  # 14 records > 5, 3 running > 1
            create(cl, "imports", resource_type="tags", inputs=[{"name": f"t{i}"} for i in range(9)])


def test_configured_limits_apply_to_every_job_type() -> None:
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, max_job_size=5)
    with MockServer(settings) as srv:
        cl = Api(srv.url, ResponseChecker(srv.app[SPEC]), {
            "Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI})
        for kind, attrs, value in (
                ("exports", {"resource_type": "skus"}, 14),
                ("cleanups", {"resource_type": "skus"}, 14),
                ("imports", {"resource_type": "tags", "inputs": [{"name": "t"}] * 6}, 6)):
            r = cl.post(f"/api/{kind}", json={"data": {"type": kind, "attributes": attrs}})
            assert r.status_code == 422, kind
            assert vendor_meta(r.json()["errors"][0]["meta"]) == {"error": "less_than_or_equal_to",
                                                     "value": value, "count": 5}
