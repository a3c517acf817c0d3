"""Target records over HTTP: a record's links.self answers with that record."""

from __future__ import annotations

from urllib.parse import urlparse

from .fixtures.http import Api


def test_record_self_link_is_retrievable(cl: Api) -> None:
    listed = cl.get("/api/skus", params={"page[size]": 2}).json()["data"]
    assert listed, "the built-in demo organization has skus"
    for rec in listed:
        r = cl.get(urlparse(rec["links"]["self"]).path)
        assert r.status_code == 200
        assert r.json()["data"] == rec


def test_unknown_record_and_type_are_404(cl: Api) -> None:
    r = cl.get("/api/skus/nope")
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "RECORD_NOT_FOUND"
    assert cl.get("/api/unicorns/abc").status_code == 404


def test_jobs_still_win_over_the_record_route(cl: Api) -> None:
    r = cl.get("/api/imports/doesnotexist")
    assert r.status_code == 404 and "import" in r.json()["errors"][0]["detail"]
