"""Rackspace cleanup lists over HTTP: marker paging both ways, links, errors, events."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from mock_server import MockServer

from .fixtures.http import Api
from .fixtures.rackspace import (
    AGENT,
    BASE,
    RS_TIME,
    create,
    patch,
)

# ---- lists and paging ----

def test_marker_paging_over_250_cleanups_in_both_directions(rs: Api, server: MockServer) -> None:
    made = [create(rs)["id"] for _ in range(250)]
    first = rs.get(BASE).json()
    assert [c["id"] for c in first["cleanups"]] == made[::-1][:100]  # desc, limit 100 by default

    def walk(url: str) -> tuple[list[str], list[dict[str, Any]]]:
        ids: list[str] = []
        pages = []
        while True:
            page = rs.get(url).json()
            if not page["cleanups"]:
                assert "links" not in page
                return ids, pages
            pages.append(page)
            ids += [c["id"] for c in page["cleanups"]]
            url = {link["rel"]: link["href"] for link in page["links"]}["next"]

    down, pages = walk(f"{BASE}?limit=30")
    assert down == made[::-1] and len(pages) == 9
    up, _ = walk(f"{BASE}?limit=30&sort_dir=asc")
    assert up == made
    # `previous` of every page gives back exactly the page before it (in the other direction)
    for before, page in zip(pages, pages[1:], strict=False):
        links = {link["rel"]: link["href"] for link in page["links"]}
        query = parse_qs(urlparse(links["previous"]).query)
        assert query == {"marker": [page["cleanups"][0]["id"]], "limit": ["30"],
                         "sort_dir": ["asc"]}
        back = rs.get(links["previous"]).json()["cleanups"]
        assert [c["id"] for c in back] == [c["id"] for c in before["cleanups"]][::-1]


def test_list_links_follow_the_documented_form(rs: Api, server: MockServer) -> None:
    c = create(rs)
    body = rs.get(BASE).json()
    assert body["links"] == [
        {"href": f"{server.url}{BASE}?marker={c['id']}", "rel": "next"},
        {"href": f"{server.url}{BASE}?marker={c['id']}&sort_dir=asc", "rel": "previous"},
    ]
    assert rs.get(f"{BASE}?marker={c['id']}").json() == {"cleanups": []}


def test_list_errors(rs: Api) -> None:
    assert rs.get(BASE).json() == {"cleanups": []}
    r = rs.get(f"{BASE}?marker=2f8708b3-d16b-11e4-bc22-c8e0eb190e3d")
    assert r.status_code == 400 and "marker" in r.json()["message"]
    for query in ("limit=0", "limit=abc", "sort_dir=up"):
        r = rs.get(f"{BASE}?{query}")
        assert r.status_code == 400 and r.json()["message"], query


def test_events_paging_and_links(rs: Api, server: MockServer) -> None:
    c = create(rs)
    server.clock.advance(3)
    patch(rs, c, ("/state", "stop_requested"))
    server.clock.advance(5)
    url = f"{BASE}/{c['id']}/events"
    everything = rs.get(url).json()["events"]
    assert [e["event"] for e in everything] == ["cleanup_start_request", "cleanup_queued",
                                                "cleanup_in_progress", "cleanup_stop_request",
                                                "cleanup_stopped"]
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == 5  # numeric, increasing
    assert all(RS_TIME.match(e["time"]) and e["cleanup"] == {"id": c["id"]} for e in everything)
    assert everything[0]["agent"]["id"] == AGENT
    assert set(everything[0]["agent"]["vault"]) == {"id", "encrypted"}
    assert "vault" not in everything[1]["agent"] and "request_id" in everything[0]
    page = rs.get(f"{url}?limit=2").json()
    assert page["events"] == everything[:2]
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert links["next"] == f"{server.url}{url}?marker={everything[1]['id']}&limit=2"
    assert links["previous"] == (
        f"{server.url}{url}?marker={everything[0]['id']}&limit=2&sort_dir=desc")
    assert rs.get(links["next"]).json()["events"] == everything[2:4]
    assert rs.get(f"{url}?marker={everything[1]['id']}").json()["events"] == everything[2:]
    assert rs.get(f"{url}?sort_dir=desc").json()["events"] == everything[::-1]
    older = rs.get(f"{url}?sort_dir=desc&marker={everything[2]['id']}").json()["events"]
    assert older == everything[1::-1]
    assert rs.get(f"{url}?marker={everything[-1]['id']}").json() == {"events": []}
    assert rs.get(f"{url}?marker=abc").status_code == 400
