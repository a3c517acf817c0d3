"""Fill a namespace with imports over HTTP (the server's own create path) and read counts back."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from .workloads import LIST_PATH, headers, import_body


@dataclass(frozen=True, slots=True)
class Seeded:
    """What a seeding run produced."""

    created: int
    failed: int
    ids: tuple[str, ...]  # the first few ids, for polling workloads
    seconds: float


async def _seed(url: str, tok: str, namespace: str, count: int, concurrency: int,
                keep: int) -> Seeded:
    import time

    import aiohttp

    hdrs = headers(tok, namespace, body=True)
    bodies = [import_body(10, i) for i in range(min(count, 64))]
    ids: list[str] = []
    created = failed = 0
    next_i = 0
    began = time.perf_counter()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal created, failed, next_i
        while next_i < count:
            i = next_i
            next_i += 1
            async with session.post(url + "/api/imports", data=bodies[i % len(bodies)],
                                    headers=hdrs) as resp:
                raw = await resp.read()
                if resp.status != 201:
                    failed += 1
                    if failed == 1:
                        print(f"seed: {resp.status} {raw[:300]!r}", flush=True)
                    continue
                created += 1
                if len(ids) < keep:
                    ids.append(json.loads(raw)["data"]["id"])

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return Seeded(created, failed, tuple(ids), time.perf_counter() - began)


def seed(url: str, tok: str, namespace: str, count: int, concurrency: int = 16,
         keep: int = 32) -> Seeded:
    """POST `count` imports of 10 inputs into `namespace`; returns ids of the first `keep`."""
    return asyncio.run(_seed(url, tok, namespace, count, concurrency, keep))


def fetch(url: str, path: str, hdrs: dict[str, str], method: str = "GET",
          body: bytes | None = None) -> tuple[int, bytes]:
    """One request (status, body) with the standard library."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url + path, data=body, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def record_count(url: str, tok: str, namespace: str) -> int:
    """How many imports the namespace holds, as the list's meta says."""
    status, raw = fetch(url, LIST_PATH, headers(tok, namespace))
    if status != 200:
        raise RuntimeError(f"list answered {status}: {raw[:300]!r}")
    return int(json.loads(raw)["meta"]["record_count"])
