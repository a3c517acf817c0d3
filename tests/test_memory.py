"""What the server keeps per stored job: bytes it keeps after a request (stored inputs, cached
renderings and links, journal bodies) take the size they say, not the encoder's 4 KB buffer."""

from __future__ import annotations

import gc
import json
import tracemalloc

import requests

from mock_server import MockServer, Settings

from .fixtures.http import JSONAPI, START_ISO, make_token

JOBS = 150


def _import(i: int) -> str:
    rows = [{"code": f"MEM-{n:02d}", "name": f"Sku {n} of import {i}"} for n in range(10)]
    return json.dumps({"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": rows, "reference": f"mem-{i}"}}})


def _store_and_read(http: requests.Session, url: str, count: int, first: int) -> None:
    """Create `count` imports of 10 inputs, let them end, list every page and read each one."""
    ids = []
    for i in range(first, first + count):
        made = http.post(f"{url}/api/imports", data=_import(i))
        assert made.status_code == 201, made.text
        ids.append(made.json()["data"]["id"])
    moved = http.post(f"{url}/_mock/clock", json={"advance": 3600},
                      headers={"Content-Type": "application/json"})
    assert moved.status_code == 200, moved.text
    page = 1
    while True:
        listed = http.get(f"{url}/api/imports", params={"page[size]": 25, "page[number]": page})
        assert listed.status_code == 200
        if not listed.json()["data"]:
            break
        page += 1
    for job_id in ids:
        read = http.get(f"{url}/api/imports/{job_id}")
        assert read.status_code == 200 and read.json()["data"]["attributes"]["status"] == "completed"


def test_an_ended_import_listed_and_read_keeps_a_few_kilobytes() -> None:
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, limits=False,
                        journal_size=20)
    with MockServer(settings) as srv, requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI,
                             "Content-Type": JSONAPI})
        _store_and_read(http, srv.url, 30, 0)  # the journal full, every lazy part made once
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            _store_and_read(http, srv.url, JOBS, 30)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    per_job = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / JOBS
    # Kept per job (~9.2 KB): the job and its inputs (deflated once it ended: ~0.15 KB), and
    # until the caches' bounds its list item and its answer (~1.5 KB each), its two encoded
    # links (~0.5 KB) and their keys. When each kept encoding held orjson's whole 4 KB
    # buffer: ~31 KB.
    assert per_job < 12_000, f"{per_job:,.0f} bytes kept per stored import"


def test_polling_a_csv_import_keeps_each_answer_at_its_size() -> None:
    """A CSV import's inputs are one long text; every poll's answer goes to the journal. Each
    entry holds about the answer's size, not the encoder's room for escaping it (~9×)."""
    csv = "code,name\n" + "".join(f"CSV{i:05d},Product {i}\n" for i in range(2500))  # ~54 KB
    settings = Settings(port=0, seed=7, frozen=True, start=START_ISO, journal_size=100)
    with MockServer(settings) as srv, requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI,
                             "Content-Type": JSONAPI})
        made = http.post(f"{srv.url}/api/imports", data=json.dumps({"data": {
            "type": "imports", "attributes": {"resource_type": "skus", "format": "csv",
                                              "inputs": csv}}}))
        assert made.status_code == 201, made.text
        url = f"{srv.url}/api/imports/{made.json()['data']['id']}"
        size = len(http.get(url).content)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(20):  # the frozen clock keeps it pending: rendered on every read
                polled = http.get(url)
                assert polled.json()["data"]["attributes"]["inputs"] == csv
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    per_poll = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 20
    assert per_poll < 2 * size, f"{per_poll:,.0f} bytes kept per poll of a {size:,}-byte answer"
