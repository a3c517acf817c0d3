"""`python -m bench.profile w1 [w2 ...]`: py-spy samples of our server under one workload.

Prints the functions with the most samples (self and inclusive) and keeps the collapsed stacks
in bench/out/profile-<workload>.txt (flamegraph.pl or speedscope read them).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import threading
from pathlib import Path

from . import servers
from .harness import OUT, cores, seeded_workloads
from .load import run_wrk
from .workloads import WORKLOADS, token


def _top(collapsed: Path, n: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f]
        weight = int(count)
        total += weight
        if frames:
            own[frames[-1]] += weight
        for frame in set(frames):
            inclusive[frame] += weight
    rows = [f"{total} samples", "self:"]
    rows += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(n)]
    rows.append("inclusive:")
    rows += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(n * 2)]
    return "\n".join(rows)


def profile(workloads: list[str], seconds: float, jobs: int, top: int, webhooks: int = 0) -> None:
    """Seed, then sample the server with py-spy while wrk drives each workload."""
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is missing: pip install py-spy (bench/run.sh does)")
    server_core, load_core = cores()
    tok = token()
    run = servers.start(servers.ours(), server_core, OUT / "logs")
    try:
        loads = seeded_workloads(run, tok, jobs, "profile")
        if webhooks:
            from .webhooks import subscribe

            subscribe(run.url, tok, webhooks)
        for name in workloads:
            out = OUT / f"profile-{name}.txt"
            spy = subprocess.Popen(["py-spy", "record", "-p", str(run.proc.pid), "-d",
                                    str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(out),
                                    "--nonblocking"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            load = threading.Thread(target=run_wrk, args=(run.url, loads[name], "ours",
                                                          seconds, load_core))
            load.start()
            load.join()
            spy.wait(seconds + 30)
            print(f"== {name}\n{_top(out, top)}\n", flush=True)
    finally:
        servers.stop(run)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workloads", nargs="+", choices=WORKLOADS)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--webhooks", type=int, default=0,
                        help="subscribe this many webhooks to a dead port first (bench.webhooks)")
    args = parser.parse_args()
    profile(args.workloads, args.seconds, args.jobs, args.top, args.webhooks)


if __name__ == "__main__":
    main()
