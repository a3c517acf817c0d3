"""Bad input over every operation of openapi.yaml: whatever a careless client or an attacker
sends, each answer is a 4xx in the API's own error shape, valid JSON (RFC 8259), and the server
goes on answering. A write is never kept without its answer."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.keys import SPEC
from mock_server.spec.load import Operation

from ..fixtures.http import JSONAPI, START_ISO, make_token

TOKEN = make_token()
AUTH = {"bearerAuth": {"Authorization": f"Bearer {TOKEN}"},
        "rackspaceToken": {"X-Auth-Token": "0f6e9f63600142f0a970911583522217"}}
PATH_VALUES = {"project_id": "123456", "resourceType": "skus", "type": "imports"}

# (name, body bytes, content type): each must be refused with a 4xx, never a 5xx
BODIES = [
    ("truncated", b'{"data": {"type": "imports", "attri', None),
    ("not json", b"hello", None),
    ("invalid utf-8", b'{"data": "\xff\xfe"}', None),
    ("utf-16", '{"data": {}}'.encode("utf-16"), None),
    ("byte order mark", b'\xef\xbb\xbf{"data": {}}', None),
    ("nested 10,000 deep", b"[" * 10_000 + b"]" * 10_000, None),
    ("nested 101 objects deep", b'{"a":' * 101 + b"1" + b"}" * 101, None),
    ("NaN", b'{"data": {"a": NaN}, "speed": NaN}', None),
    ("Infinity", b'{"data": {"a": Infinity}, "advance": Infinity}', None),
    ("1e400", b'{"data": {"a": 1e400}}', None),
    ("lone surrogate", b'{"data": {"a": "\\ud800"}}', None),
    ("a bare string", b'"data"', None),
    ("null", b"null", None),
    ("an array", b"[]", None),
    ("form where JSON is taken", b"a=1&b=2", "application/x-www-form-urlencoded"),
    ("xml", b"<data/>", "application/xml"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO, seed=3)) as s:
        yield s


def _with_body(server: MockServer) -> list[Operation]:
    return sorted((op for op in server.app[SPEC].operations.values() if op.body_media),
                  key=lambda op: op.operation_id)


def _url(server: MockServer, op: Operation) -> str:
    return server.url + re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m[1], "x0000AAAA1"),
                               op.path)


def _headers(op: Operation, content_type: str | None) -> dict[str, str]:
    headers = {"Accept": "*/*", "Content-Type": content_type or sorted(op.body_media)[0]}
    for scheme in op.security:
        headers.update(AUTH.get(scheme, {}))
    return headers


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def assert_refused_in_the_api_shape(r: requests.Response, path: str) -> None:
    """A 4xx (not a 5xx), valid JSON, in the API's own error format."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    body = _strict(r.text)
    if path.startswith("/v2"):
        assert isinstance(body["message"], str) and body["message"]
    else:
        assert isinstance(body["errors"], list) and body["errors"]
        assert all(e["status"] == str(r.status_code) and e["detail"] for e in body["errors"])


@pytest.mark.parametrize(("name", "raw", "content_type"), BODIES, ids=[b[0] for b in BODIES])
def test_every_operation_with_a_body_refuses_bad_bodies(server: MockServer, name: str,
                                                        raw: bytes,
                                                        content_type: str | None) -> None:
    for op in _with_body(server):
        r = requests.request(op.method.upper(), _url(server, op), data=raw, timeout=30,
                             headers=_headers(op, content_type))
        assert_refused_in_the_api_shape(r, op.path)
    assert requests.get(f"{server.url}/_mock/health", timeout=10).ok  # still answering


def test_no_write_is_kept_from_a_refused_body(server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": JSONAPI, "Content-Type": JSONAPI,
               "X-Mock-Namespace": "bad-bodies"}
    for _, raw, _ in BODIES:
        requests.post(f"{server.url}/api/exports", data=raw, headers=headers, timeout=30)
    listed = requests.get(f"{server.url}/api/exports", headers=headers, timeout=30)
    assert listed.status_code == 200 and _strict(listed.text)["data"] == []


def test_a_huge_integer_is_kept_and_every_later_answer_stays_json(server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": JSONAPI, "Content-Type": JSONAPI,
               "X-Mock-Namespace": "huge-numbers"}
    raw = (b'{"data":{"type":"exports","attributes":{"resource_type":"skus",'
           b'"metadata":{"b":18446744073709551616,"c":-9223372036854775809}}}}')
    r = requests.post(f"{server.url}/api/exports", data=raw, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    assert _strict(r.text)["data"]["attributes"]["metadata"]["b"] == 18446744073709551616
    listed = requests.get(f"{server.url}/api/exports", headers=headers, timeout=30)
    assert _strict(listed.text)["data"][0]["attributes"]["metadata"] == \
        _strict(r.text)["data"]["attributes"]["metadata"]


@pytest.mark.parametrize("project", ["a%0Ab", "a%00b", "a%0Db", "a%1Ab", "a%7Fb", "a%09b",
                                     "%C3%A9", "a%20b"])
def test_a_project_id_that_is_not_url_safe_is_400_and_nothing_is_stored(
        server: MockServer, project: str) -> None:
    headers = {**AUTH["rackspaceToken"], "Content-Type": "application/json",
               "X-Mock-Namespace": "bad-projects"}
    body = {"agent_id": "8f135b4f-7a69-4b8a-947f-5e80d772fd97", "state": "start_requested"}
    r = requests.post(f"{server.url}/v2/{project}/cleanups", json=body, headers=headers,
                      timeout=30)
    assert r.status_code == 400 and "project_id" in r.text, r.text
    assert_refused_in_the_api_shape(r, "/v2")
    listed = requests.get(f"{server.url}/_mock/jobs", params={"namespace": "bad-projects"},
                          timeout=30).json()
    assert listed["count"] == 0


def test_a_printable_id_outside_the_spec_names_nothing_404(server: MockServer) -> None:
    r = requests.get(f"{server.url}/v2/{'a' * 65}/cleanups", headers=AUTH["rackspaceToken"],
                     timeout=30)
    assert r.status_code == 404 and r.json()["message"]


def _exchange_headers_only(server: MockServer, head: str) -> bytes:
    """Send only a request's head (its body promised, never sent) and read what comes back."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_a_big_body_is_not_read_before_the_caller_is_known(server: MockServer) -> None:
    # 60 MB promised, none sent: the 401 comes at once, so nothing was waited for or read
    answer = _exchange_headers_only(server, (
        "POST /api/imports HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.api+json\r\n"
        "Content-Length: 60000000\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_body_over_the_limit_is_413_before_it_is_read(server: MockServer) -> None:
    answer = _exchange_headers_only(server, (
        f"POST /api/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/vnd.api+json\r\nContent-Length: 100000000\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    rs = _exchange_headers_only(server, (
        "POST /v2/123456/cleanups HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"))
    assert rs.startswith(b"HTTP/1.1 413"), rs[:200]


def test_a_chunked_body_over_the_limit_is_413_in_the_api_shape() -> None:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO, max_body=100_000)) as s:
        def chunks() -> Iterator[bytes]:
            yield b'{"data": {"type": "exports", "attributes": {"resource_type": "skus", "x": "'
            for _ in range(50):
                yield b"a" * 10_000
            yield b'"}}}'
        r = requests.post(f"{s.url}/api/exports", data=chunks(), timeout=30, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": JSONAPI})
        assert r.status_code == 413
        assert_refused_in_the_api_shape(r, "/api/exports")
        assert "max_body" in r.json()["errors"][0]["detail"]


TRAVERSALS = ["..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cwin.ini",
              "....//....//etc/passwd", "%252e%252e%252fetc%252fpasswd", "..%00", "%2F",
              "a%2F..%2F..%2F_mock%2Freset"]


def _raw_get(server: MockServer, target: str, headers: str = "") -> requests.Response:
    """GET a target exactly as written (no client-side normalisation of dot segments)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"
                  .encode())
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    r = requests.Response()
    r.status_code = int(head.split()[1])
    r._content = body
    return r


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_path_traversal_reaches_no_file_and_no_other_route(server: MockServer, bad: str) -> None:
    cl = f"Authorization: Bearer {TOKEN}\r\nAccept: {JSONAPI}\r\n"
    rs = f"X-Auth-Token: {AUTH['rackspaceToken']['X-Auth-Token']}\r\n"
    before = requests.get(f"{server.url}/_mock/requests", timeout=30).json()
    for target, headers, dialect in (
            (f"/api/imports/{bad}", cl, "/api"), (f"/api/imports/{bad}/events", cl, "/api"),
            (f"/api/{bad}", cl, "/api"), (f"/v2/123456/cleanups/{bad}", rs, "/v2"),
            (f"/v2/{bad}/cleanups", rs, "/v2"), (f"/_files/{bad}.json.gz?expires=1&signature=x",
                                                 "", "/_files"),
            (f"/api/../../etc/passwd/{bad}", cl, "/api"), (f"/_ns/{bad}/api/imports", cl, "/api")):
        r = _raw_get(server, target, headers)
        assert b"root:" not in r.content and b"[fonts]" not in r.content
        assert r.status_code < 500, (target, r.status_code, r.text[:300])
        if r.status_code >= 400 and dialect != "/_files":
            assert_refused_in_the_api_shape(r, dialect)
    after = requests.get(f"{server.url}/_mock/requests", timeout=30).json()
    assert len(after["requests"]) >= len(before["requests"])  # nothing was reset on the way


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a%0d%0aSet-Cookie:%20x=1",
                                   "a\nX-Injected: 1"])
def test_header_injection_never_reaches_an_answer(server: MockServer, value: str) -> None:
    # sent raw: the parser refuses a bare CR/LF; percent-encoded: the value is only data
    raw = f"X-Mock-Namespace: {value}\r\nAuthorization: Bearer {TOKEN}\r\nAccept: {JSONAPI}\r\n"
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"POST /api/exports HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{raw}"
                  "Content-Type: application/vnd.api+json\r\nContent-Length: 2\r\n\r\n{}"
                  .encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"set-cookie" not in head and b"x-injected" not in head
    assert int(answer.split()[1]) < 500


@pytest.mark.parametrize("target", ["/api/imports/%zz", "/api/imports/%", "/api/imports/%E0%A4%A",
                                    "/api/%ZZ", "/api/imports?filter[q][%zz]=1",
                                    "/v2/%zz/cleanups", "/v2/123456/cleanups/%"])
def test_bad_percent_encoding_is_refused_in_the_api_shape(server: MockServer, target: str) -> None:
    headers = (f"Authorization: Bearer {TOKEN}\r\nAccept: {JSONAPI}\r\n" if target.startswith("/api")
               else f"X-Auth-Token: {AUTH['rackspaceToken']['X-Auth-Token']}\r\n")
    assert_refused_in_the_api_shape(_raw_get(server, target, headers), target)


def test_a_duplicate_member_name_takes_the_last_value_as_the_vendor_does(
        server: MockServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": JSONAPI, "Content-Type": JSONAPI,
               "X-Mock-Namespace": "duplicate-keys"}
    raw = b'{"data":{"type":"exports","attributes":{"resource_type":"nope","resource_type":"skus"}}}'
    r = requests.post(f"{server.url}/api/exports", data=raw, headers=headers, timeout=30)
    assert r.status_code == 201 and r.json()["data"]["attributes"]["resource_type"] == "skus"
