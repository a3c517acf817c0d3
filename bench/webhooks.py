"""`python -m bench.webhooks`: do webhooks cost the API? The polling fleet (w4: polls, lists and
a create per 20 requests, so transitions keep happening) and polls of a running export (w1r),
first with no webhook, then with 100 webhooks on the imports' topics pointing at a dead port,
in one run; prints req/s, server CPU per request and the ratios (target: ≥ 0.9× the
throughput without).

Every import the fleet creates then fans out to the webhooks (a delivery each, refused at once
by the dead port, retried on the clock, until each webhook's circuit opens after 30 failures),
all on the server's own loop beside the requests being measured.

Two measurements with the webhooks: first while their circuits are still closed (every event
is a refused connection; each webhook's circuit opens after 30), then once they are open (the
steady state of a dead receiver: events are not even looked at until a `_reset_circuit`). The
target applies to the second; the first is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import socket
import urllib.request

from . import servers
from .harness import OUT, cores, seeded_workloads
from .load import measure
from .workloads import headers, token

TARGET = 0.9
TOPICS = ("imports.create", "imports.start", "imports.complete")


def _dead_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def subscribe(url: str, tok: str, count: int) -> None:
    """`count` webhooks on the imports' topics of namespace bench, all to a dead port."""
    dead = f"http://127.0.0.1:{_dead_port()}/hooks"
    for i in range(count):
        body = json.dumps({"data": {"type": "webhooks", "attributes": {
            "topic": TOPICS[i % len(TOPICS)], "callback_url": f"{dead}/{i}"}}}).encode()
        req = urllib.request.Request(f"{url}/api/webhooks", data=body, method="POST",
                                     headers=headers(tok, "bench", body=True))
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 201


def _attempts(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_mock/webhooks/deliveries?namespace=bench",
                                timeout=60) as resp:
        found = json.load(resp)["deliveries"]
    return sum(len(d["attempts"]) for d in found)


def run(seconds: float, jobs: int, count: int) -> dict[str, tuple[float, float]]:
    """Per workload: throughput and CPU ratios (with dead webhooks / without)."""
    server_core, load_core = cores()
    tok = token()
    srv = servers.start(servers.ours(), server_core, OUT / "logs")
    out: dict[str, tuple[float, float]] = {}
    try:
        loads = seeded_workloads(srv, tok, jobs, "webhooks")
        alone = {w: measure(srv.url, loads[w], "alone", seconds, load_core, pid=srv.proc.pid)
                 for w in ("w1r", "w4")}
        subscribe(srv.url, tok, count)
        opening = measure(srv.url, loads["w4"], "opening", seconds, load_core, pid=srv.proc.pid)
        attempts = _attempts(srv.url)
        hooked = {w: measure(srv.url, loads[w], "hooked", seconds, load_core, pid=srv.proc.pid)
                  for w in ("w1r", "w4")}
    finally:
        servers.stop(srv)
    if not attempts:
        raise SystemExit("no delivery was attempted: nothing was measured")
    print(f"w4 while the {count} circuits open ({attempts:,} refused deliveries): "
          f"{opening.rps:,.0f} req/s, {opening.cpu_us:.0f} µs/req → "
          f"{opening.rps / alone['w4'].rps:.2f}× the throughput without webhooks")
    for w in ("w1r", "w4"):
        rps = hooked[w].rps / alone[w].rps
        cpu = (alone[w].cpu_us or 0) / (hooked[w].cpu_us or 1)
        out[w] = (rps, cpu)
        print(f"{w} alone: {alone[w].rps:,.0f} req/s, {alone[w].cpu_us:.0f} µs/req; with {count} "
              f"dead webhooks (circuits open): {hooked[w].rps:,.0f} req/s, {hooked[w].cpu_us:.0f} µs/req → "
              f"throughput {rps:.2f}× (target ≥ {TARGET}× {'✅' if rps >= TARGET else '❌'}), "
              f"CPU per request {cpu:.2f}×")
    return out


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--webhooks", type=int, default=100)
    args = parser.parse_args()
    run(args.seconds, args.jobs, args.webhooks)


if __name__ == "__main__":
    main()
