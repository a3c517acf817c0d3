"""`/_ns/<namespace>/...`: served as the path without the prefix, in that namespace; links keep it."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.keys import JOURNAL
from mock_server.namespace_path import split

JSONAPI = "application/vnd.api+json"
IMPORT = {"data": {"type": "imports", "attributes": {
    "resource_type": "skus", "inputs": [{"code": "A1", "name": "One"}]}}}


@pytest.mark.parametrize("raw, expected", [
    ("/_ns/ci-7/api/imports?page%5Bsize%5D=1", ("ci-7", "/_ns/ci-7", "/api/imports?page%5Bsize%5D=1")),
    ("/_ns/a%20b/v2/1/cleanups", ("a b", "/_ns/a%20b", "/v2/1/cleanups")),
    ("/_ns/ci-7", ("ci-7", "/_ns/ci-7", "/")),
    ("/_ns/ci-7?x=1", ("ci-7", "/_ns/ci-7", "/?x=1")),
    ("/_ns/", None),
    ("/_ns//api", None),
    ("/api/imports", None),
])
def test_split(raw: str, expected: tuple[str, str, str] | None) -> None:
    assert split(raw) == expected


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, frozen=True, public_url="https://mock.example/base/")) as srv:
        yield srv


def _headers(server: MockServer, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token()}", "Accept": JSONAPI,
            "Content-Type": JSONAPI, **extra}


def test_prefixed_requests_live_in_their_namespace(server: MockServer) -> None:
    created = requests.post(f"{server.url}/_ns/ci-7/api/imports", json=IMPORT,
                            headers=_headers(server, **{"X-Mock-Namespace": "other"}))
    assert created.status_code == 201
    # public_url and the prefix both make the link: the path wins over a header
    assert created.json()["data"]["links"]["self"].startswith("https://mock.example/base/_ns/ci-7/api/")
    counts = {ns: requests.get(url, headers=_headers(server)).json()["meta"]["record_count"]
              for ns, url in [("ci-7", f"{server.url}/_ns/ci-7/api/imports"),
                              ("other", f"{server.url}/_ns/other/api/imports"),
                              ("default", f"{server.url}/api/imports")]}
    assert counts == {"ci-7": 1, "other": 0, "default": 0}
    entry = server.app[JOURNAL].entries(namespace="ci-7")[0]
    assert (entry.path, entry.method, entry.status) == ("/api/imports", "POST", 201)


def test_errors_keep_the_dialect_of_the_path_without_prefix(server: MockServer) -> None:
    rs = requests.get(f"{server.url}/_ns/x/v2/123456/cleanups/nope", headers={"X-Auth-Token": "t"})
    assert rs.status_code == 404 and "message" in rs.json()
    cl = requests.get(f"{server.url}/_ns/x/api/nowhere", headers=_headers(server))
    assert cl.status_code == 404 and "errors" in cl.json()


def test_expect_continue_works_through_the_prefix(server: MockServer) -> None:
    body = json.dumps(IMPORT).encode()
    conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    conn.putrequest("POST", "/_ns/ci-8/api/imports")
    for name, value in {**_headers(server), "Expect": "100-continue",
                        "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(body)
    response = conn.getresponse()
    assert response.status == 201
    assert json.loads(response.read())["data"]["attributes"]["status"] == "pending"
    conn.close()
