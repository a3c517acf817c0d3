"""Organization fixtures: the built-in demo, custom files, start-up errors, determinism by seed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server import MockServer, Settings, create_app
from mock_server.cli import main
from mock_server.keys import SPEC
from mock_server.records.simulation import FixtureError

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api, make_token
from .fixtures.records import codes, download, gunzip, records

ROOT = Path(__file__).resolve().parent.parent


def test_the_documented_example_is_the_built_in_demo() -> None:
    packaged = resources.files("mock_server").joinpath("data/demo.yaml").read_text("utf-8")
    assert (ROOT / "fixtures" / "demo.yaml").read_text("utf-8") == packaged


@pytest.fixture
def demo(server: MockServer, checker: ResponseChecker) -> Api:
    """A client of the organization `demo`, the one the built-in fixture gives past jobs."""
    return Api(server.url, checker, {"Authorization": f"Bearer {make_token(org='demo')}",
                                     "Accept": JSONAPI, "Content-Type": JSONAPI})


def _jobs(api: Api, kind: str) -> list[dict[str, Any]]:
    return [d["attributes"] for d in api.get(f"/api/{kind}", params={"sort": "created_at"})
            .json()["data"]]


def test_the_demo_organization_has_a_coherent_past(demo: Api) -> None:
    exports, imports, cleanups = (_jobs(demo, k) for k in ("exports", "imports", "cleanups"))
    assert [(e["resource_type"], e["status"]) for e in exports] == [
        ("skus", "completed"), ("orders", "completed"), ("prices", "failed")]
    assert exports[0]["created_at"] == "2025-12-31T23:00:00.000Z"  # an hour before first use
    assert exports[2]["errors_log"] == {"RuntimeError": "query timeout"}
    assert [(i["resource_type"], i["status"], i["processed_count"], i["errors_count"])
            for i in imports] == [("gift_cards", "completed", 5, 0), ("skus", "interrupted", 4, 0),
                                  ("customers", "completed", 2, 1)]
    assert imports[2]["errors_log"] == {"1": {"email": ["can't be blank"]}}
    assert [(c["resource_type"], c["status"], c["processed_count"]) for c in cleanups] == [
        ("gift_cards", "completed", 5)]
    # what the jobs did is in the records: four hoodies of ten, the gift cards gone again
    assert codes(demo, "skus", "DEMO-HOODIE") == [f"DEMO-HOODIE-0{i}" for i in range(1, 5)]
    assert codes(demo, "gift_cards", "DEMO-GC") == []
    assert codes(demo, "customers", "mario", "email") == ["mario.rossi@example.com"]
    # the export of an hour ago holds the skus as they were then: no hoodies yet
    rows = json.loads(gunzip(download(exports[0]["attachment_url"])))
    assert rows and not [r for r in rows if r["code"].startswith("DEMO-HOODIE")]
    assert len(rows) == exports[0]["records_count"] == len(records(demo, "skus")) - 4


def test_other_organizations_get_the_records_but_no_jobs(cl: Api) -> None:
    for kind in ("imports", "exports", "cleanups"):
        assert cl.get(f"/api/{kind}").json()["meta"]["record_count"] == 0
    assert codes(cl, "skus", "DEMO-TSHIRT") == ["DEMO-TSHIRT-M", "DEMO-TSHIRT-L"]
    for rtype in ("skus", "prices", "stock_items", "customers", "orders", "voids"):
        assert records(cl, rtype), rtype


def test_generated_records_are_older_than_the_clock(cl: Api) -> None:
    stamps = [r["attributes"]["created_at"] for r in records(cl, "orders")]
    assert stamps and max(stamps) < START_ISO.replace("Z", ".000Z")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


CUSTOM = """\
epoch: 2025-06-01T00:00:00Z
generate: {price_lists: 1, skus: 3, prices: 3}
records:
  skus:
    - {code: MINE-1, name: Mine, created_at: 2025-05-01T10:00:00Z}
jobs_for: ["acme*"]
jobs:
  - type: cleanups
    created: -1h30m
    attributes: {resource_type: skus, filters: {code_eq: MINE-1}}
  - type: imports
    created: -PT10M
    durations: {running: 3600}
    attributes: {resource_type: tags, inputs: [{name: a}, {name: b}]}
"""


@pytest.fixture
def custom(tmp_path: Path) -> Iterator[MockServer]:
    """A server on the CUSTOM fixture, passed the way `serve --fixtures FILE` passes it."""
    settings = Settings(port=0, seed=3, frozen=True, start=START_ISO,
                        fixtures=_write(tmp_path, CUSTOM))
    with MockServer(settings) as srv:
        yield srv


def test_a_custom_fixture(custom: MockServer) -> None:
    api = Api(custom.url, ResponseChecker(custom.app[SPEC]), {
        "Authorization": f"Bearer {make_token(org='acme-eu')}", "Accept": JSONAPI})
    assert len(records(api, "skus")) == 3  # MINE-1 was cleaned up 90 minutes ago
    assert [p["attributes"]["created_at"][:10] for p in records(api, "price_lists")] == ["2025-06-01"]
    assert records(api, "orders") == []  # not generated
    (cleanup,) = _jobs(api, "cleanups")
    assert (cleanup["status"], cleanup["processed_count"]) == ("completed", 1)
    (imp,) = _jobs(api, "imports")
    assert imp["status"] == "in_progress" and imp["created_at"] == "2025-12-31T23:50:00.000Z"
    other = Api(custom.url, ResponseChecker(custom.app[SPEC]), {
        "Authorization": f"Bearer {make_token(org='globex')}", "Accept": JSONAPI})
    assert _jobs(other, "imports") == [] and codes(other, "skus", "MINE") == ["MINE-1"]


@pytest.mark.parametrize(("text", "where", "what"), [
    ("jobs: [\n", "not valid YAML", "expected"),
    ("colour: red\n", "(top level)", "'colour' was unexpected"),
    ("generate: {skus: -1}\n", "generate.skus", "minimum"),
    ("generate: {widgets: 3}\n", "generate.widgets", "unknown record type"),
    ("generate: {prices: 3}\n", "generate.prices", "generate some skus too"),
    ("records: {skus: [{code: A}]}\n", "records.skus[0]", "name can't be blank"),
    ("records: {skus: [{code: A, name: B, colour: red}]}\n", "records.skus[0].colour",
     "no attribute"),
    ("jobs: [{type: exports, created: yesterday, attributes: {resource_type: skus}}]\n",
     "jobs[0].created", "must be like -1h"),
    ("jobs: [{type: exports, attributes: {format: json}}]\n", "jobs[0].attributes.resource_type",
     "can't be blank"),
    ("jobs: [{type: exports, attributes: {resource_type: skus, filters: {code_eq: NONE}}}]\n",
     "jobs[0].attributes.records_count", "greater than 0"),
    ("jobs: [{type: cleanups, attributes: {resource_type: skus, filters: {colour_eq: red}}}]\n",
     "jobs[0].attributes.filters.colour_eq", "not a filterable attribute"),
    ("jobs: [{type: exports, attributes: {resource_type: skus, fields: [colour]}}]\n",
     "jobs[0].attributes.fields", "no field 'colour'"),
    ("jobs: [{type: imports, fail_at: 50, attributes: {resource_type: tags, inputs: [{name: a}]}}]\n",
     "jobs[0].fail_at", "no failed status"),
    ("jobs: [{type: imports, attributes: {resource_type: tags, inputs: 'name\\na\\n'}}]\n",
     "jobs[0].attributes.inputs", "send format: csv"),
])
def test_a_bad_fixture_fails_at_start_up_naming_file_path_and_problem(
        tmp_path: Path, text: str, where: str, what: str) -> None:
    path = _write(tmp_path, "generate: {skus: 2}\n" + text if text.startswith("jobs") else text)
    with pytest.raises(FixtureError) as caught:
        create_app(Settings(fixtures=path, start=START_ISO))
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}"), message
    assert what in message, message


def test_serve_exits_2_on_a_bad_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "generate: {widgets: 1}\n")
    assert main(["serve", "--port", "0", "--fixtures", path]) == 2
    assert f"mock-server: {path}: generate.widgets: unknown record type" in capsys.readouterr().err
    assert main(["serve", "--port", "0", "--fixtures", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the fixture file" in capsys.readouterr().err


def _bodies(seed: int, files_key: str | None = "fixed") -> list[bytes]:
    """Every response body of one fixed session against a fresh server."""
    settings = Settings(port=0, seed=seed, frozen=True, start=START_ISO,
                        public_url="http://mock.test", files_key=files_key)
    out: list[bytes] = []
    with MockServer(settings) as srv:
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {make_token(org='demo')}",
                          "Accept": JSONAPI, "Content-Type": JSONAPI})
        for path in ("/api/skus?page[size]=25", "/api/orders?include=line_items",
                     "/api/imports", "/api/exports", "/api/cleanups"):
            out.append(s.get(srv.url + path).content)
        body = {"data": {"type": "exports", "attributes": {"resource_type": "customers"}}}
        out.append(s.post(srv.url + "/api/exports", json=body).content)
        srv.clock.advance(60)
        doc = s.get(srv.url + "/api/exports?sort=-created_at").json()
        out.append(json.dumps(doc).encode())
        link = doc["data"][0]["attributes"]["attachment_url"].replace("http://mock.test", srv.url)
        out.append(requests.get(link, timeout=10).content)
    return out


def test_the_same_seed_gives_byte_identical_responses() -> None:
    first, second = _bodies(11), _bodies(11)
    assert first == second
    assert _bodies(12)[0] != first[0]  # another seed, other records
    # without a files_key each server signs its links with a key of its own: only they differ
    unkeyed = _bodies(11, files_key=None)
    assert unkeyed != first
    assert [_unsigned(b) for b in unkeyed] == [_unsigned(b) for b in first]


def _unsigned(body: bytes) -> bytes:
    return re.sub(rb"signature=[0-9a-f]+", b"signature=", body)
