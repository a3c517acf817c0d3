"""`python -m bench.dashboards`: does watching cost the API? Polls of a running export (w1r)
with no dashboard open, then with 10 open, in one run; prints req/s and server CPU per request
and the ratio (target: ≥ 0.9× the throughput without).

A dashboard here is what the page does over HTTP (mock_server/dashboard/page.html): it listens
to /_mock/events and, on every event, reads the clock and the journal, and the job list while a
job is running (here one always is). Ten real Chromiums would measure the browsers on this
2-core machine, not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import threading

import aiohttp

from . import servers
from .harness import OUT, cores, seeded_workloads
from .load import measure
from .workloads import token

TARGET = 0.9


FETCHED = [0]  # requests the dashboards made (a run where they made none measures nothing)


async def _dashboard(url: str, stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/_mock/events", timeout=aiohttp.ClientTimeout(None)) as ev:
            async for line in ev.content:
                if stop.is_set():
                    return
                if not line.startswith(b"event:"):
                    continue
                for path in ("/_mock/clock", "/_mock/requests?limit=30", "/_mock/jobs?limit=200"):
                    async with http.get(url + path) as r:
                        await r.read()
                        FETCHED[0] += 1


def _watch(url: str, count: int, done: threading.Event) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(_dashboard(url, stop)) for _ in range(count)]
        await asyncio.get_running_loop().run_in_executor(None, done.wait)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def run(seconds: float, jobs: int, count: int) -> tuple[float, float]:
    """Throughput and CPU ratios (with dashboards / without) of w1r."""
    server_core, load_core = cores()
    tok = token()
    srv = servers.start(servers.ours(), server_core, OUT / "logs")
    try:
        load = seeded_workloads(srv, tok, jobs, "dashboards")["w1r"]
        alone = measure(srv.url, load, "alone", seconds, load_core, pid=srv.proc.pid)
        done = threading.Event()
        watcher = threading.Thread(target=_watch, args=(srv.url, count, done), daemon=True)
        watcher.start()
        try:
            watched = measure(srv.url, load, "watched", seconds, load_core, pid=srv.proc.pid)
        finally:
            done.set()
            watcher.join(30)
    finally:
        servers.stop(srv)
    if not FETCHED[0]:
        raise SystemExit("the dashboards made no request: nothing was measured")
    rps = watched.rps / alone.rps
    cpu = (alone.cpu_us or 0) / (watched.cpu_us or 1)
    print(f"w1r alone: {alone.rps:,.0f} req/s, {alone.cpu_us:.0f} µs/req; with {count} "
          f"dashboards: {watched.rps:,.0f} req/s, {watched.cpu_us:.0f} µs/req (server CPU, "
          f"dashboards' own {FETCHED[0]} requests included)")
    print(f"throughput {rps:.2f}× (target ≥ {TARGET}× {'✅' if rps >= TARGET else '❌'}), "
          f"CPU per poll {cpu:.2f}×")
    return rps, cpu


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--dashboards", type=int, default=10)
    args = parser.parse_args()
    run(args.seconds, args.jobs, args.dashboards)


if __name__ == "__main__":
    main()
