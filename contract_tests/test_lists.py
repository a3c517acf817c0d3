"""Lists: counts agree with the pages walked; links walk the whole set, no duplicate, no gap."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from . import jobs
from .client import ApiClient, expect
from .jobs import JobKind

CREATED = 5


def _walk(api: ApiClient, url: str, rel: str, key: str) -> list[dict[str, Any]]:
    """Follow `rel` links from `url`; the response bodies in the order visited."""
    bodies: list[dict[str, Any]] = []
    seen_urls: set[str] = set()
    while url and url not in seen_urls and len(bodies) < 100:
        assert url.startswith(("http://", "https://", "/")), (
            f"a `{rel}` link is not a URL. Received {url!r} / Documented an absolute URL")
        seen_urls.add(url)
        body = expect(api.get(url), 200).json()
        bodies.append(body)
        if not body.get(key):
            break
        url = _link(body, rel) or ""
    return bodies


def _link(body: dict[str, Any], rel: str) -> str | None:
    links = body.get("links")
    if isinstance(links, dict):
        return links.get(rel)
    return next((lk["href"] for lk in links or [] if lk.get("rel") == rel), None)


def _ids(bodies: list[dict[str, Any]], key: str) -> list[str]:
    return [str(item["id"]) for body in bodies for item in body.get(key) or []]


def _no_duplicates(ids: list[str], walk: str) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"{walk}: Received duplicates {dupes} / Documented each record once"


@pytest.mark.api("commercelayer")
def test_pages_walk_the_whole_set(cl: ApiClient, job_kinds: dict[str, JobKind],
                                  fresh_queue: None) -> None:
    """page[size]=2 over this run's imports: next links forward, prev links back, same set."""
    kind = job_kinds["imports"]
    reference = f"contract-{jobs.RUN}-pages"
    created = {jobs.create(cl, kind, reference).id for _ in range(CREATED)}
    query = urlencode({"filter[q][reference_eq]": reference, "page[size]": 2,
                       "sort": "created_at"})
    first = expect(cl.get(f"{kind.collection}?{query}"), 200).json()
    meta = first["meta"]
    forward = _walk(cl, first["links"]["first"], "next", "data")
    ids = _ids(forward, "data")
    _no_duplicates(ids, "next links")
    assert set(ids) == created, f"next links: Received {sorted(ids)} / Documented {sorted(created)}"
    assert (len(ids), len(forward)) == (meta["record_count"], meta["page_count"]), (
        f"Received {len(ids)} records on {len(forward)} pages / Documented record_count="
        f"{meta['record_count']}, page_count={meta['page_count']}")
    backward = _walk(cl, first["links"]["last"], "prev", "data")
    back_ids = _ids(backward[::-1], "data")
    _no_duplicates(back_ids, "prev links")
    assert back_ids == ids, f"prev links: Received {back_ids} / Documented {ids}"


@pytest.mark.api("rackspace")
def test_markers_walk_both_directions(rs: ApiClient, job_kinds: dict[str, JobKind]) -> None:
    """Rackspace: next markers walk the whole list; previous markers walk it back."""
    kind = job_kinds["rackspace_cleanups"]
    created = {jobs.create(rs, kind).id for _ in range(CREATED)}
    everything = _ids([expect(rs.get(f"{kind.collection}?limit=1000"), 200).json()], "cleanups")
    assert created <= set(everything), (
        f"Received {sorted(set(everything))} / Documented to include {sorted(created)}")
    forward = [b for b in _walk(rs, f"{kind.collection}?limit=2", "next", "cleanups")
               if b.get("cleanups")]
    ids = _ids(forward, "cleanups")
    _no_duplicates(ids, "next markers")
    assert ids == everything, f"next markers: Received {ids} / Documented {everything}"
    previous = _link(forward[-1], "previous")
    # notes: rackspace_cleanups.md §8 — list pages carry `previous` (marker = first item)
    assert previous is not None, (f"the last page has no `previous` link. Received links "
                                  f"{forward[-1].get('links')} / Documented next and previous")
    back = _ids(_walk(rs, previous, "next", "cleanups"), "cleanups")
    _no_duplicates(back, "previous markers")
    last_page = {str(c["id"]) for c in forward[-1]["cleanups"]}
    expected = [i for i in everything[::-1] if i not in last_page]
    assert back == expected, f"previous markers: Received {back} / Documented {expected}"


@pytest.mark.api("commercelayer")
def test_filters_select_what_they_name(cl: ApiClient, job_kinds: dict[str, JobKind],
                                       fresh_queue: None) -> None:
    """`filter[q][reference_eq]` lists exactly the jobs with that reference, newest first with
    `sort=-created_at` (the client's rules check every item and the order)."""
    kind = job_kinds["imports"]
    wanted, other = f"contract-{jobs.RUN}-wanted", f"contract-{jobs.RUN}-other"
    created = [jobs.create(cl, kind, wanted).id for _ in range(2)]
    jobs.create(cl, kind, other)
    query = urlencode({"filter[q][reference_eq]": wanted, "sort": "-created_at"})
    listed = _ids([expect(cl.get(f"{kind.collection}?{query}"), 200).json()], "data")
    assert sorted(listed) == sorted(created), (
        f"filter[q][reference_eq]={wanted}: Received {listed} / Documented {created}")
