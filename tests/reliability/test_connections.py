"""Connections: requests aiohttp's HTTP parser refuses are answered in the API's error format, a
client that is slow to send its headers (or sends nothing) loses its connection after
`header_timeout`, and a kept-alive connection left idle after `idle_timeout`. Real sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from mock_server import MockServer, Settings
from mock_server.settings import ConfigError

from ..fixtures.http import START_ISO, make_token

TOKEN = make_token()


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    settings = Settings(port=0, frozen=True, start=START_ISO, header_timeout=0.5,
                        idle_timeout=1.0)
    with MockServer(settings) as s:
        yield s


def _exchange(server: MockServer, raw: bytes, wait: float = 30.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes: then fail)."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(raw)
        return _until_closed(conn, wait)


def _until_closed(conn: socket.socket, wait: float) -> bytes:
    conn.settimeout(wait)
    data = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            pytest.fail(f"the server kept the connection open for {wait} s; got {data[:200]!r}")
        if not chunk:
            return data
        data += chunk


def _answer(raw: bytes) -> tuple[int, str, object]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), json.loads(body)


REFUSED = [
    ("a 64 KB query", b"GET /api/imports?" + b"filter[q][status_eq]=x&" * 2800 + b" HTTP/1.1"),
    ("raw UTF-8 in the request line", "GET /api/imports/é HTTP/1.1".encode()),
    ("an unknown method", b"FROB /api/imports HTTP/1.1"),
    ("control bytes in a header", b"GET /api/imports HTTP/1.1\r\nX-A: \x01\x02"),
    ("a header of 10,000 bytes", b"GET /api/imports HTTP/1.1\r\nX-A: " + b"a" * 10_000),
    ("200 headers", b"GET /api/imports HTTP/1.1" + b"\r\nX-B: 1" * 200),
    ("header injection in a name", b"GET /api/imports HTTP/1.1\r\nX-A\r\nX-B: 1"),
    ("a bare LF in a header value", b"GET /api/imports HTTP/1.1\r\nX-A: a\nb: c"),
    ("no HTTP version", b"GET /api/imports"),
]


@pytest.mark.parametrize("vendor", ["commercelayer", "rackspace"])
@pytest.mark.parametrize(("name", "start"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_the_parser_refuses_is_answered_in_the_api_format(
        server: MockServer, vendor: str, name: str, start: bytes) -> None:
    if vendor == "rackspace":
        start = start.replace(b"/api/imports", b"/v2/123456/cleanups", 1)
    status, ctype, body = _answer(_exchange(server, start + b"\r\nHost: x\r\n\r\n"))
    assert 400 <= status < 500
    if vendor == "rackspace":
        assert ctype.startswith("application/json")
        assert isinstance(body, dict) and set(body) == {"message"} and body["message"]
    else:
        assert ctype.startswith("application/vnd.api+json")
        assert isinstance(body, dict)
        [error] = body["errors"]
        assert error["status"] == str(status) and error["detail"] and error["code"]
    assert requests.get(f"{server.url}/_mock/clock", timeout=10).status_code == 200


def test_a_client_slow_to_send_its_headers_is_told_and_cut_off(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /v2/123456/cleanups HTTP/1.1\r\nHost: x\r\n")  # never finished
        status, ctype, body = _answer(_until_closed(conn, 30.0))
    assert status == 408 and ctype.startswith("application/json")
    assert "header_timeout" in body["message"]  # type: ignore[index]


def test_silent_and_slow_connections_are_dropped_while_others_are_served(
        server: MockServer) -> None:
    silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(30)]
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(30)]
    try:
        for conn in slow:
            conn.sendall(b"GET /api/imports HTTP/1.1\r\nHo")
        r = requests.get(f"{server.url}/api/imports",
                         headers={"Authorization": f"Bearer {TOKEN}",
                                  "Accept": "application/vnd.api+json"}, timeout=10)
        assert r.status_code == 200
        for conn in silent:
            assert _until_closed(conn, 30.0) == b""  # closed without a word
        for conn in slow:
            assert _until_closed(conn, 30.0).startswith(b"HTTP/1.1 408 ")
    finally:
        for conn in silent + slow:
            conn.close()


def test_a_kept_alive_connection_left_idle_is_closed(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /_mock/clock HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = _until_closed(conn, 30.0)  # answered, then closed once idle_timeout passed
    assert raw.startswith(b"HTTP/1.1 200 ")


def test_a_request_whose_body_is_slow_is_not_cut_off_by_the_header_deadline(
        server: MockServer) -> None:
    body = b'{"advance": "PT1S"}'
    chunks = [body[i:i + 4] for i in range(0, len(body), 4)]
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"POST /_mock/clock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                     b"\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\n\r\n" + chunks[0])
        conn.settimeout(0.3)  # the body trickles in over more than header_timeout
        for chunk in chunks[1:]:
            with pytest.raises(TimeoutError):
                conn.recv(1)
            conn.sendall(chunk)
        assert _until_closed(conn, 30.0).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "100000"])
def test_timeouts_must_be_sensible(value: str) -> None:
    for key in ("header_timeout", "idle_timeout"):
        with pytest.raises(ConfigError, match=key):
            Settings.from_mapping({key: value})
