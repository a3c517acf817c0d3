"""validation.py: content negotiation, parameters and bodies checked against the spec's own
operations, answered with the vendor's error (status, code, where it points)."""

from __future__ import annotations

import json
from functools import lru_cache

import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import MultiDict, MultiDictProxy

from mock_server.domain.errors import MockError
from mock_server.spec.load import Operation, Spec
from mock_server.validation import HeadChecks, check_accept, check_params, coerce, parse_body

from .fixtures.http import Api

JSONAPI = "application/vnd.api+json"


@lru_cache(maxsize=1)
def _spec() -> Spec:
    return Spec.from_file()


def _op(operation_id: str) -> Operation:
    return _spec().operations[operation_id]


def _query(**pairs: str) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(pairs))


def _raises(fn: object, *args: object) -> MockError:
    with pytest.raises(MockError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


@pytest.mark.parametrize("accept, ok", [
    (None, True), ("*/*", True), (JSONAPI, True), ("application/*", True),
    ("text/html", False), (f"{JSONAPI};q=0", False),
])
def test_accept_admits_the_operations_media_types(accept: str | None, ok: bool) -> None:
    op = _op("listImports")
    if ok:
        check_accept(op, accept)
    else:
        assert _raises(check_accept, op, accept).status == 406


@pytest.mark.parametrize("value, schema, expected", [
    ("7", {"type": "integer"}, 7), ("1.5", {"type": "number"}, 1.5),
    ("true", {"type": "boolean"}, True), ("x", {"type": "integer"}, "x"),
    ("abc", {"type": "string"}, "abc"),
])
def test_query_strings_are_coerced_by_schema_type(value: str, schema: dict[str, str],
                                                  expected: object) -> None:
    assert coerce(value, schema) == expected


def test_declared_query_parameters_come_back_typed() -> None:
    _, query = check_params(_op("listImports"), {}, _query(**{"page[size]": "5"}), {})
    assert query["page[size]"] == 5


@pytest.mark.parametrize("pairs, code", [
    ({"page[size]": "0"}, "INVALID_PAGE_VALUE"),
    ({"page[size]": "lots"}, "INVALID_PAGE_VALUE"),
])
def test_bad_query_parameters_are_400_with_the_vendors_code(pairs: dict[str, str], code: str) -> None:
    err = _raises(check_params, _op("listImports"), {}, _query(**pairs), {})
    assert (err.status, err.code) == (400, code)


def test_a_parameter_given_twice_is_400() -> None:
    query = MultiDictProxy(MultiDict([("page[size]", "5"), ("page[size]", "6")]))
    err = _raises(check_params, _op("listImports"), {}, query, {})
    assert err.status == 400 and "2 times" in err.detail


def test_a_body_where_none_is_taken_is_400() -> None:
    assert _raises(parse_body, _op("listImports"), b"{}", JSONAPI).status == 400


def test_body_media_type_and_json_are_checked() -> None:
    op = _op("createImport")
    assert _raises(parse_body, op, b"{}", "text/plain").status == 415
    assert _raises(parse_body, op, b"{not json", JSONAPI).status == 400
    assert _raises(parse_body, op, b"", JSONAPI).status == 400


def test_a_body_against_its_schema_is_422_pointing_at_the_field() -> None:
    op = _op("createImport")
    body = {"data": {"type": "imports", "attributes": {"resource_type": "skus"}}}  # no inputs
    err = _raises(parse_body, op, json.dumps(body).encode(), JSONAPI)
    assert err.status == 422 and err.pointer is not None and "inputs" in err.detail


def test_a_valid_body_comes_back_parsed() -> None:
    body = {"data": {"type": "imports", "attributes": {"resource_type": "skus",
                                                       "inputs": [{"code": "A"}]}}}
    assert parse_body(_op("createImport"), json.dumps(body).encode(), JSONAPI) == body


def test_a_request_head_seen_before_answers_as_it_did_and_its_errors_each_time(cl: Api) -> None:
    """Checked parameters are remembered per request head (validation.HeadChecks): the same
    path with another Accept or another query is checked on its own, and a bad one is answered
    with its error every time it comes."""
    for _ in range(3):
        cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
            "resource_type": "skus", "inputs": [{"code": "A", "name": "a"}]}}})
    for _ in range(2):
        r = cl.get("/api/imports?page[size]=2")
        assert r.status_code == 200 and len(r.json()["data"]) == 2
        assert r.json()["meta"]["page_count"] == 2
        r = cl.get("/api/imports?page[size]=2", headers={"Accept": "text/html"})
        assert r.status_code == 406, r.text
        r = cl.get("/api/imports?page[size]=99")
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "INVALID_PAGE_VALUE"
        r = cl.get("/api/imports?page[size]=1")
        assert r.status_code == 200 and r.json()["meta"]["page_count"] == 3


def test_head_checks_keep_the_heads_seen_last() -> None:
    op = _op("getImport")
    checks = HeadChecks(op, size=2)

    def checked(job_id: str, accept: str = JSONAPI) -> object:
        request = make_mocked_request("GET", f"/api/imports/{job_id}", headers={"Accept": accept},
                                      match_info={"importId": job_id})
        return checks(request)[0]

    for job_id in ("a1", "b2", "c3", "a1", "c3"):
        assert checked(job_id) == {"importId": job_id}
        assert len(checks) <= 2
    assert _raises(checked, "a1", "text/html").status == 406
    assert len(checks) == 2  # a refused head is not kept
