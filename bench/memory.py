"""Bytes allocated per stored job, counted by tracemalloc through the app's own create path.

RSS growth (harness.scaling_and_memory) is what the OS sees, but a warm heap reuses freed
blocks, so it reads low on small counts. tracemalloc counts live allocations exactly: POST the
imports through the whole middleware stack in-process (no sockets), let an hour of virtual time
pass so every import has completed and been settled (a stored job, as a long-lived server keeps
it), then diff snapshots.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any
from unittest import mock

from .workloads import headers, import_body, token


async def _post_all(app: Any, count: int, tok: str, namespace: str) -> int:
    from aiohttp.streams import StreamReader
    from aiohttp.test_utils import make_mocked_request
    from multidict import CIMultiDict

    hdrs = CIMultiDict({**headers(tok, namespace, body=True), "Host": "127.0.0.1:8080"})
    loop = asyncio.get_running_loop()
    created = 0
    for i in range(count):
        body = import_body(10, i)
        payload = StreamReader(mock.Mock(), 2**16, loop=loop)
        payload.feed_data(body)
        payload.feed_eof()
        hdrs["Content-Length"] = str(len(body))
        request = make_mocked_request("POST", "/api/imports", headers=hdrs, app=app,
                                      payload=payload)
        response = await app._handle(request)
        created += response.status == 201
    return created


def allocated_per_job(count: int = 10_000, warm: int = 5_000) -> tuple[float, int]:
    """(bytes allocated per job, jobs created) for `count` imports of 10 inputs."""
    from mock_server.app import create_app
    from mock_server.keys import CLOCK
    from mock_server.settings import Settings

    tok = token()

    async def run() -> tuple[float, int]:
        app = create_app(Settings(limits=False, journal_size=1000))
        tracemalloc.start()
        try:
            # Fill the journal (1,000 entries) and every bounded cache first (the encoded links
            # of 4,096 resources), traced, so that what they let go later is counted too: what
            # they hold stops growing, what a stored job holds does not. These jobs end first.
            await _post_all(app, warm, tok, "memory")
            app[CLOCK].advance(3600)
            await _post_all(app, 1, tok, "memory")
            gc.collect()
            before = tracemalloc.take_snapshot()
            created = await _post_all(app, count, tok, "memory")
            app[CLOCK].advance(3600)  # stored jobs have ended: one more request settles them
            await _post_all(app, 1, tok, "memory")
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        return grown / max(1, created + 1), created + 1

    return asyncio.run(run())


if __name__ == "__main__":
    per_job, made = allocated_per_job()
    print(f"{per_job:.0f} bytes allocated per stored import ({made} created)")


def fast_stream(run: Any, tok: str, count: int = 9_900, warm: int = 100) -> dict[str, Any]:
    """RSS per job after a fast stream of creates, measured on a started server of ours.

    The scaling run seeds in batches of 1,000 that end before the next, which hides the peak of
    jobs in flight; a fleet that creates as fast as it can keeps all of them running at once.
    Here `count` imports of 10 inputs are created as fast as 16 clients can, all into one
    namespace, then the clock moves an hour on and a list settles them (every one has ended);
    RSS is read then, against RSS after `warm` imports went the same way (a warm process).
    """
    from .seed import fetch, record_count, seed

    def ended(namespace: str, n: int) -> float:
        made = seed(run.url, tok, namespace, n)
        fetch(run.url, "/_mock/clock", {"Content-Type": "application/json"}, "POST",
              b'{"advance": 3600}')
        record_count(run.url, tok, namespace)  # settles every one of them
        return made.seconds

    ended("stream-warm", warm)
    base = run.rss_kib()
    seconds = ended("stream", count)
    peak = run.rss_kib()
    return {"jobs": count, "base_rss_kib": base, "rss_kib": peak,
            "bytes_per_job": (peak - base) * 1024 / count, "rate": count / max(seconds, 1e-9)}
