"""Commerce Layer jobs over HTTP: lifecycle on the virtual clock, triggers, lists, every error path."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from mock_server import MockServer

from .fixtures.http import JSONAPI, Api, make_token

# Valid skus for the demo organization (an unknown shipping_category_id would be an item error).
INPUTS = [{"code": f"SKU{i}", "name": f"Shirt {i}"} for i in range(10)]


def create_import(cl: Api, inputs: list[dict[str, Any]] | None = None, **attrs: Any) -> dict[str, Any]:
    body = {"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": INPUTS if inputs is None else inputs, **attrs}}}
    r = cl.post("/api/imports", json=body)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def get(cl: Api, path: str) -> dict[str, Any]:
    r = cl.get(path)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_import_lifecycle_step_by_step(cl: Api, server: MockServer) -> None:
    job = create_import(cl, reference="r1")
    a = job["attributes"]
    assert job["type"] == "imports" and job["links"]["self"].endswith(f"/api/imports/{job['id']}")
    assert a["status"] == "pending" and a["inputs_size"] == 10 and a["processed_count"] == 0
    assert a["started_at"] is None and a["completed_at"] is None and a["interrupted_at"] is None
    assert a["errors_log"] == {} and a["metadata"] == {} and a["inputs"] == INPUTS
    assert job["meta"] == {"mode": "test", "organization_id": "id-acme"}
    path = f"/api/imports/{job['id']}"

    server.clock.advance(1.0)  # pending lasts 1 s
    a = get(cl, path)["attributes"]
    assert a["status"] == "in_progress" and a["started_at"] == "2026-01-01T00:00:01.000Z"
    assert a["processed_count"] == 0

    server.clock.advance(1.05)  # running = 2 s + 0.01 s per item = 2.1 s; half way
    a = get(cl, path)["attributes"]
    assert a["status"] == "in_progress" and a["processed_count"] == 5

    server.clock.advance(1.05)
    a = get(cl, path)["attributes"]
    assert a["status"] == "completed" and a["processed_count"] == 10
    assert a["completed_at"] == "2026-01-01T00:00:03.100Z"


def test_job_read_once_after_an_hour_is_complete_and_consistent(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    server.clock.advance(3600)
    a = get(cl, f"/api/imports/{job['id']}")["attributes"]
    assert a["status"] == "completed" and a["processed_count"] == a["inputs_size"] == 10
    assert a["created_at"] <= a["started_at"] <= a["completed_at"]


def test_interrupt_answers_interrupted_and_freezes(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    server.clock.advance(2.05)
    body = {"data": {"type": "imports", "id": job["id"], "attributes": {"_interrupt": True},
                     "relationships": {}}}
    r = cl.patch(f"/api/imports/{job['id']}", json=body)
    assert r.status_code == 200
    a = r.json()["data"]["attributes"]
    assert a["status"] == "interrupted" and a["processed_count"] == 5
    assert a["interrupted_at"] == "2026-01-01T00:00:02.050Z"
    server.clock.advance(3600)
    later = get(cl, f"/api/imports/{job['id']}")["attributes"]
    assert later["status"] == "interrupted" and later["processed_count"] == 5


def test_trigger_in_the_wrong_state_is_422(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    server.clock.advance(3600)
    body = {"data": {"type": "imports", "id": job["id"], "attributes": {"_interrupt": True}}}
    r = cl.patch(f"/api/imports/{job['id']}", json=body)
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["code"] == "VALIDATION_ERROR" and "completed" in err["detail"]
    assert err["source"]["pointer"] == "/data/attributes/_interrupt"


def test_imports_have_no_start_trigger(cl: Api) -> None:
    job = create_import(cl)
    body = {"data": {"type": "imports", "id": job["id"], "attributes": {"_start": True}}}
    r = cl.patch(f"/api/imports/{job['id']}", json=body)
    assert r.status_code == 400  # jsonapi-resources: an attribute the resource does not take
    [error] = r.json()["errors"]
    assert error["code"] == "PARAM_NOT_ALLOWED" and error["detail"] == "_start is not allowed."
    assert error["source"]["pointer"] == "/data/attributes/_start"


def test_patch_changes_only_writable_fields_and_keeps_versions(cl: Api) -> None:
    job = create_import(cl, reference="before")
    body = {"data": {"type": "imports", "id": job["id"],
                     "attributes": {"reference": "after", "metadata": {"k": "v"}}}}
    r = cl.patch(f"/api/imports/{job['id']}", json=body)
    assert r.status_code == 200
    a = r.json()["data"]["attributes"]
    assert a["reference"] == "after" and a["metadata"] == {"k": "v"} and a["status"] == "pending"
    body["data"]["attributes"] = {"resource_type": "prices"}
    assert cl.patch(f"/api/imports/{job['id']}", json=body).status_code == 400


def test_patch_id_must_match_url(cl: Api) -> None:
    job = create_import(cl)
    body = {"data": {"type": "imports", "id": "someoneelse", "attributes": {"reference": "x"}}}
    r = cl.patch(f"/api/imports/{job['id']}", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "KEY_NOT_INCLUDED_IN_URL"


def test_delete_running_job_is_refused_then_allowed_after_interrupt(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    path = f"/api/imports/{job['id']}"
    r = cl.delete(path)
    assert r.status_code == 422 and "interrupt" in r.json()["errors"][0]["detail"]
    cl.patch(path, json={"data": {"type": "imports", "id": job["id"], "attributes": {"_interrupt": True}}})
    assert cl.delete(path).status_code == 204
    r = cl.get(path)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "RECORD_NOT_FOUND"


def test_events_follow_the_clock(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    def names() -> list[str]:
        return [e["attributes"]["name"] for e in cl.get(f"/api/imports/{job['id']}/events").json()["data"]]

    assert names() == ["create"]
    server.clock.advance(1)
    assert names() == ["create", "start"]
    server.clock.advance(60)
    assert names() == ["create", "start", "complete"]
    stores = cl.get(f"/api/imports/{job['id']}/event_stores")
    assert stores.status_code == 200 and stores.json()["meta"]["record_count"] == 3


def test_organizations_and_modes_are_isolated(cl: Api, server: MockServer) -> None:
    job = create_import(cl)
    for token in (make_token(org="other"), make_token(test=False)):
        r = cl.get(f"/api/imports/{job['id']}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404
        r = cl.get("/api/imports", headers={"Authorization": f"Bearer {token}"})
        assert r.json()["meta"]["record_count"] == 0
    live = cl.get("/api/imports", headers={"Authorization": f"Bearer {make_token(test=False)}"})
    assert live.status_code == 200


def test_list_paging_links_keep_other_parameters(cl: Api, server: MockServer) -> None:
    ids = [create_import(cl, [{"code": f"C{i}", "name": "n"}])["id"] for i in range(6)]
    server.clock.advance(3600)  # let them finish: only 10 may run at once
    ids += [create_import(cl, [{"code": f"C{i}", "name": "n"}])["id"] for i in range(6)]
    server.clock.advance(3600)
    r = cl.get("/api/imports", params={"page[size]": 5, "page[number]": 2, "sort": "-created_at",
                                       "filter[q][status_eq]": "completed"})
    doc = r.json()
    assert r.status_code == 200
    assert doc["meta"] == {"record_count": 12, "page_count": 3}
    assert [d["id"] for d in doc["data"]] == ids[::-1][5:10]
    links = {k: parse_qs(urlparse(v).query) for k, v in doc["links"].items()}
    assert links["next"]["filter[q][status_eq]"] == ["completed"]
    assert links["next"]["page[number]"] == ["3"]
    assert links["prev"]["page[number]"] == ["1"] and links["last"]["sort"] == ["-created_at"]
    first = cl.get("/api/imports", params={"page[size]": 5}).json()
    assert "prev" not in first["links"] and [d["id"] for d in first["data"]] == ids[:5]


def test_walking_next_links_visits_every_job_once(cl: Api, server: MockServer) -> None:
    ids = set()
    for _ in range(3):
        for _ in range(9):
            ids.add(create_import(cl, [{"code": "A", "name": "n"}])["id"])
        server.clock.advance(3600)
    seen: list[str] = []
    url: str | None = "/api/imports?page[size]=4&sort=-created_at"
    while url:
        doc = cl.get(url).json()
        seen += [d["id"] for d in doc["data"]]
        url = doc["links"].get("next")
    assert len(seen) == len(ids) == 27 and set(seen) == ids


def test_sort_filter_fields_and_include(cl: Api, server: MockServer) -> None:
    a = create_import(cl, [{"code": "A", "name": "n"}] * 3, reference="aaa")
    server.clock.advance(1.5)
    b = create_import(cl, [{"code": "B", "name": "n"}], reference="bbb")
    r = cl.get("/api/imports", params={"sort": "status,-inputs_size"})
    assert [d["id"] for d in r.json()["data"]] == [a["id"], b["id"]]  # in_progress < pending
    r = cl.get("/api/imports", params={"filter[q][reference_or_reference_origin_cont]": "bb"})
    assert [d["id"] for d in r.json()["data"]] == [b["id"]]
    r = cl.get("/api/imports", params={"fields[imports]": "status,processed_count"})
    assert set(r.json()["data"][0]["attributes"]) == {"status", "processed_count"}
    r = cl.get(f"/api/imports/{a['id']}", params={"include": "events"})
    doc = r.json()
    assert [i["attributes"]["name"] for i in doc["included"]] == ["create", "start"]
    assert len(doc["data"]["relationships"]["events"]["data"]) == 2


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page[size]": 26}, "INVALID_PAGE_VALUE"),
        ({"page[number]": 0}, "INVALID_PAGE_VALUE"),
        ({"sort": "nope"}, "INVALID_SORT_CRITERIA"),
        ({"filter[q][nope_eq]": "1"}, "FILTER_NOT_ALLOWED"),
        ({"filter[q][status_wat]": "1"}, "FILTER_NOT_ALLOWED"),
        ({"fields[imports]": "status,nope"}, "INVALID_FIELD"),
        ({"include": "versions"}, "INVALID_INCLUDE"),
        ({"include": "event_stores"}, "INVALID_INCLUDE"),
    ],
)
def test_bad_query_is_400_with_a_code_that_says_which(cl: Api, params: dict[str, Any], code: str) -> None:
    r = cl.get("/api/imports", params=params)
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["code"] == code and err["status"] == "400" and "parameter" in err["source"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Authorization": ""}, "INVALID_TOKEN"),
        ({"Authorization": "Bearer not-a-jwt"}, "INVALID_TOKEN"),
        ({"Authorization": f"Bearer {make_token(exp=1000)}"}, "INVALID_TOKEN"),
        ({"Authorization": f"Bearer {make_token(kind='sales_channel')}"}, "UNAUTHORIZED"),
    ],
)
def test_auth_errors(cl: Api, headers: dict[str, str], code: str) -> None:
    r = cl.get("/api/imports", headers=headers)
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == code
    assert r.headers["Content-Type"].startswith(JSONAPI)


def test_content_negotiation(cl: Api) -> None:
    assert cl.get("/api/imports", headers={"Accept": "application/xml"}).status_code == 406
    assert cl.get("/api/imports", headers={"Accept": "*/*"}).status_code == 200
    r = cl.post("/api/imports", data=b'{"data": {}}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["errors"][0]["status"] == "415"
    r = cl.post("/api/imports", data=b'{"data": ', headers={"Content-Type": JSONAPI})
    assert r.status_code == 400 and "JSON" in r.json()["errors"][0]["detail"]
    r = cl.get("/api/imports", data=b'{"x": 1}')
    assert r.status_code == 400
    # the official SDK sends Content-Type on bodiless GETs: that is fine
    assert cl.get("/api/imports", headers={"Content-Type": JSONAPI}).status_code == 200


def test_body_violations_are_422_with_pointers(cl: Api) -> None:
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {"inputs": []}}})
    assert r.status_code == 422
    errors = {e["source"]["pointer"]: e for e in r.json()["errors"]}
    assert set(errors) == {"/data/attributes/resource_type", "/data/attributes/inputs"}
    for name in ("resource_type", "inputs"):  # Rails' words, the validator in meta.error
        error = errors[f"/data/attributes/{name}"]
        assert error["detail"] == f"{name} - can't be blank" and error["title"] == "can't be blank"
        assert error["meta"] == {"error": "blank"} and error["code"] == "VALIDATION_ERROR"
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": [], "status": "completed"}}})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "PARAM_NOT_ALLOWED"


@pytest.mark.parametrize(("attributes", "pointer", "detail", "meta"), [
    ({"resource_type": "nope"}, "resource_type", "resource_type - is not included in the list",
     {"error": "inclusion"}),
    ({"skip_errors": "yes"}, "skip_errors", "skip_errors - is invalid", {"error": "invalid"}),
    ({"format": "xml"}, "format", "format - is not included in the list", {"error": "inclusion"}),
    ({"inputs": 5}, "inputs", "inputs - is invalid", {"error": "invalid"}),
])
def test_body_violations_are_worded_as_the_vendor_words_them(
        cl: Api, attributes: dict[str, Any], pointer: str, detail: str,
        meta: dict[str, Any]) -> None:
    body = {"resource_type": "skus", "inputs": [{"code": "A"}], **attributes}
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": body}})
    assert r.status_code == 422, r.text
    [error] = [e for e in r.json()["errors"] if e["source"]["pointer"].endswith(pointer)]
    assert error["detail"] == detail and error["meta"] == meta
    assert "is not of type" not in r.text and "should be" not in r.text


def test_undeclared_method_is_405_with_allow_and_unknown_path_404(cl: Api) -> None:
    r = cl.put("/api/imports", json={})
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(",")) == {"GET", "POST"}
    assert r.json()["errors"][0]["status"] == "405"
    assert cl.head("/api/imports").status_code == 405
    r = cl.get("/api/nothing/here/at/all")
    assert r.status_code == 404 and r.json()["errors"][0]["status"] == "404"


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "TRACE", "HEAD", "PROPFIND", "LOCK"])
@pytest.mark.parametrize("path", ["/api/imports", "/api/exports/x", "/api/skus",
                                  "/v2/123456/cleanups", "/_mock/clock"])
def test_a_method_a_known_path_does_not_take_is_405_with_allow(
        cl: Api, method: str, path: str) -> None:
    r = cl.request(method, path)
    assert r.status_code == 405 and r.headers["Allow"], (method, path, r.status_code)
    assert method not in r.headers["Allow"].split(",")


def test_concurrency_limit_per_type(cl: Api, server: MockServer) -> None:
    for _ in range(10):
        create_import(cl)
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": INPUTS}}})
    assert r.status_code == 422 and "10" in r.json()["errors"][0]["detail"]
    server.clock.advance(3600)
    create_import(cl)


def test_import_size_limit(cl: Api) -> None:
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": [{"code": "x"}] * 10_001}}})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["meta"].pop("mock_hint").endswith("--no-limits, or set max_job_size.")
    assert err["meta"] == {"error": "less_than_or_equal_to", "value": 10_001, "count": 10_000}


def test_oauth_token_and_application(cl: Api) -> None:
    plain = {"Authorization": "", "Accept": "application/json", "Content-Type": "application/json"}
    r = cl.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": "abc"}, headers=plain)
    assert r.status_code == 200
    token = r.json()
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    app = cl.get("/api/application", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert app.status_code == 200 and app.json()["data"]["attributes"]["kind"] == "integration"
    r = cl.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "abc"},
                headers={"Authorization": "", "Accept": "application/json",
                         "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200


def test_lone_surrogate_in_inputs_is_kept_not_a_500(cl: Api) -> None:
    raw = (b'{"data":{"type":"imports","attributes":{"resource_type":"customers",'
           b'"inputs":[{"name":"\\ud800"}]}}}')
    r = cl.post("/api/imports", data=raw)
    assert r.status_code == 201
    assert r.json()["data"]["attributes"]["inputs"] == [{"name": "\ud800"}]


def test_integers_beyond_64_bits_round_trip_not_a_500(cl: Api, server: MockServer) -> None:
    huge = -14799568643959533568
    job = create_import(cl, [{"code": "A", "name": "n", "weight": huge}], metadata={"big": huge})
    assert job["attributes"]["inputs"][0]["weight"] == huge
    server.clock.advance(60)
    listed = cl.get("/api/imports").json()["data"]
    assert listed[0]["attributes"]["metadata"] == {"big": huge}


@pytest.mark.parametrize("kind", ["imports", "exports", "cleanups"])
def test_null_metadata_and_relationships_are_taken_as_the_vendor_takes_them(
        cl: Api, kind: str) -> None:
    attrs: dict[str, Any] = {"resource_type": "skus", "metadata": None}
    if kind == "imports":
        attrs["inputs"] = INPUTS
    r = cl.post(f"/api/{kind}", json={"data": {"type": kind, "attributes": attrs,
                                                "relationships": None}})
    assert r.status_code == 201, r.text
    job = r.json()["data"]
    assert job["attributes"]["metadata"] == {}
    patched = cl.patch(f"/api/{kind}/{job['id']}", json={"data": {
        "type": kind, "id": job["id"], "attributes": {"metadata": {"a": 1}}}})
    assert patched.json()["data"]["attributes"]["metadata"] == {"a": 1}
    cleared = cl.patch(f"/api/{kind}/{job['id']}", json={"data": {
        "type": kind, "id": job["id"], "attributes": {"metadata": None}, "relationships": None}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["data"]["attributes"]["metadata"] == {}
