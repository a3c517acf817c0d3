"""`python -m bench [--quick]`: measure, then write bench/RESULTS.md and bench/results.png."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from .harness import Options, run
from .report import chart, render
from .servers import BENCH


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (a full run takes about 10 minutes, --quick about 1.5)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a ~1 minute smoke run")
    parser.add_argument("--seconds", type=float, help="measured seconds per cell")
    parser.add_argument("--no-peers", action="store_true", help="skip Prism and connexion")
    parser.add_argument("--no-contract", action="store_true", help="skip timing the contract suite")
    parser.add_argument("--servers", help="comma-separated subset of "
                        "ours,uvloop,before,ceiling,prism,connexion,state (ours always runs)")
    parser.add_argument("--before", help="git revision measured as 'before the redesign' "
                        "(default: d2c7ae6)")
    parser.add_argument("--no-scaling", action="store_true",
                        help="skip the store-size, memory and spec-generation measurements")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md",
                        help="where to write the markdown (default bench/RESULTS.md)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite RESULTS.md and the chart from bench/out/results.json")
    args = parser.parse_args(argv)
    opts = Options.quick_run() if args.quick else Options()
    if args.seconds:
        opts = replace(opts, seconds=args.seconds)
    if args.no_peers:
        opts = replace(opts, peers=False)
    if args.servers:
        opts = replace(opts, servers=tuple(args.servers.split(",")))
    if args.before:
        opts = replace(opts, before=args.before)
    if args.no_scaling:
        opts = replace(opts, scaling=False)
    if args.no_contract:
        opts = replace(opts, contract=False)
    if args.render_only:
        data = json.loads((opts.out / "results.json").read_text())
    else:
        data = asdict(run(opts))
    notes_file = BENCH / "NOTES.md"
    notes = notes_file.read_text(encoding="utf-8") if notes_file.exists() else ""
    args.results.write_text(render(data, notes), encoding="utf-8")
    png = args.results.with_name("results.png")
    if not chart(data, png):
        print("matplotlib is missing: no chart (bench/run.sh installs it)", file=sys.stderr)
    print(f"wrote {args.results}" + (f" and {png}" if png.exists() else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
