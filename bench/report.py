"""RESULTS.md and results.png from a run's Report: tables, ratios against targets, the chart."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .servers import BENCH, ROOT
from .workloads import WORKLOADS

OURS = "mock-server"
BEFORE = "before the redesign"
SERVER_ORDER = (OURS, "mock-server+uvloop", BEFORE, "aiohttp ceiling", "prism", "connexion")
TITLES = {
    "w1": "GET one export by id",
    "w1r": "GET one running export by id (rendered on every read)",
    "w2": "GET 25 imports, sort=-created_at, 10,000 jobs",
    "w3": "POST an import with 10 inputs",
    "w4": "polling fleet: 16 polls, 2 lists, 1 create, 1 export per 20",
}
# (workload, peer, minimum ours/peer throughput ratio) from the targets
TARGETS = (("w1", "prism", 3.0), ("w1", "connexion", 10.0), ("w1", "aiohttp ceiling", 0.6),
           ("w2", "prism", 1.0))
# (workload, peer, minimum peer/ours CPU per request): the speed issue's targets, judged on CPU
CPU_TARGETS = {("w1", "aiohttp ceiling"): 0.75, ("w1r", "aiohttp ceiling"): 0.5,
               ("w1r", "prism"): 8.0, ("w2", "aiohttp ceiling"): 0.5,
               ("w3", "aiohttp ceiling"): 0.25, ("w3", "prism"): 3.0,
               ("w4", "aiohttp ceiling"): 0.5}


def describe_machine(server_core: int | None, load_core: int | None) -> dict[str, Any]:
    """CPU model, cores, memory and the pinning used."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kib = 0
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "server_core": server_core, "load_core": load_core}


def _dist(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _cmd(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return ""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr).strip() else ""


def versions() -> dict[str, str]:
    """Versions of everything measured and measuring."""
    sha = _cmd(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    venv = BENCH / ".venv" / "bin" / "python"
    return {
        "python": platform.python_version(),
        "async-job-mock": f"{_dist('async-job-mock')} (git {sha})",
        "aiohttp": _dist("aiohttp"),
        "jsonschema": _dist("jsonschema"),
        "orjson": _dist("orjson"),
        "jsonschema-rs": _dist("jsonschema-rs") or _dist("jsonschema_rs"),
        "uvloop": _dist("uvloop"),
        "wrk": _cmd(["wrk", "--version"]).split(" [")[0],
        "prism": _cmd([str(BENCH / ".node" / "node_modules" / ".bin" / "prism"), "--version"]),
        "node": _cmd(["node", "--version"]),
        "connexion": _cmd([str(venv), "-c", "import connexion.utils, importlib.metadata as m;"
                           "print(m.version('connexion'), 'uvicorn', m.version('uvicorn'))"]),
    }


def _cell(cells: list[dict[str, Any]], server: str, workload: str) -> dict[str, Any] | None:
    return next((c for c in cells if c["server"] == server and c["workload"] == workload), None)


def _servers(cells: list[dict[str, Any]]) -> list[str]:
    seen = {c["server"] for c in cells}
    return [s for s in SERVER_ORDER if s in seen] + sorted(seen - set(SERVER_ORDER))


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    if not a or not b or not a["valid"] or not b["valid"] or not b["rps"]:
        return None
    return a["rps"] / b["rps"]


def _fmt(x: float | None, spec: str = ".2f", suffix: str = "×") -> str:
    return "n/a" if x is None else f"{x:{spec}}{suffix}"


def throughput_table(cells: list[dict[str, Any]]) -> list[str]:
    """Rows: workloads; columns: servers; req/s, p50 and p99."""
    names = _servers(cells)
    out = ["| workload | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for wl in WORKLOADS:
        row = [f"{wl}: {TITLES[wl]}"]
        for s in names:
            c = _cell(cells, s, wl)
            if c is None:
                row.append("—")
            else:
                flag = "" if c["valid"] else f" ⚠ {c['errors']} errors"
                row.append(f"{c['rps']:,.0f} req/s<br>p50 {c['p50_ms']:.2f} ms, "
                           f"p99 {c['p99_ms']:.2f} ms{flag}")
        out.append("| " + " | ".join(row) + " |")
    return out


def ratio_table(cells: list[dict[str, Any]]) -> list[str]:
    """ours/peer throughput for every workload and peer, with the targets marked."""
    peers = [s for s in _servers(cells) if not s.startswith(OURS)]
    out = ["| workload | " + " | ".join(f"ours / {p}" for p in peers) + " |",
           "|---|" + "---|" * len(peers)]
    wanted = {(w, p): t for w, p, t in TARGETS}
    for wl in WORKLOADS:
        row = [wl]
        for p in peers:
            r = _ratio(_cell(cells, OURS, wl), _cell(cells, p, wl))
            target = wanted.get((wl, p))
            mark = ""
            if target is not None:
                mark = f" (target ≥ {target:g}× {'✅' if r is not None and r >= target else '❌'})"
            row.append(_fmt(r) + mark)
        out.append("| " + " | ".join(row) + " |")
    return out


def cpu_ratio_table(cells: list[dict[str, Any]]) -> list[str]:
    """other / ours server CPU time per request: the same question, less exposed to noise."""
    peers = [s for s in _servers(cells) if not s.startswith(OURS)]
    out = ["| workload | ours µs/req | " + " | ".join(f"{p} µs/req (×ours)" for p in peers) + " |",
           "|---|---|" + "---|" * len(peers)]
    for wl in WORKLOADS:
        mine = _cell(cells, OURS, wl)
        if not mine or not mine.get("cpu_us"):
            continue
        row = [wl, f"{mine['cpu_us']:.0f}"]
        for p in peers:
            c = _cell(cells, p, wl)
            if not c or not c.get("cpu_us") or not c["valid"]:
                row.append("n/a")
            else:
                r = c["cpu_us"] / mine["cpu_us"]
                target = CPU_TARGETS.get((wl, p))
                mark = "" if target is None else \
                    f", target ≥ {target:g}× {'✅' if r >= target else '❌'}"
                row.append(f"{c['cpu_us']:.0f} ({r:.2f}×{mark})")
        out.append("| " + " | ".join(row) + " |")
    return out


# (backend, workload) → the least "memory CPU / backend CPU" per request (issue: durable state)
STATE_TARGETS = {("SQLite", "w1"): 0.8, ("SQLite", "w1r"): 0.8, ("SQLite", "w3"): 0.5,
                 ("PostgreSQL", "w1"): 0.7, ("PostgreSQL", "w1r"): 0.7}
REPLICAS_TARGET = 1.2  # two replicas' CPU per request (with PostgreSQL) over one replica's


def state_table(cells: list[dict[str, Any]]) -> list[str]:
    """Memory against each state backend: CPU per request of every server-side process, as a
    throughput ratio (memory µs / backend µs), and what a second replica costs: two replicas
    over one, and that over what two memory servers on the same core cost over one (the
    co-location alone), which leaves what sharing costs."""
    from .state import MEM_TWO, PG_ONE, PG_TWO, SQLITE

    names = {"SQLite": SQLITE, "PostgreSQL": PG_ONE}
    out = ["| workload | memory µs/req | SQLite µs/req (× memory) | PostgreSQL, 1 replica µs/req "
           "(× memory) | 2 memory servers µs/req (÷ 1: co-location) | 2 replicas µs/req "
           "(÷ 1 replica) | sharing: 2 replicas ÷ 1, over co-location |",
           "|---|---|---|---|---|---|---|"]
    for wl in WORKLOADS:
        mine = _cell(cells, OURS, wl)
        if not mine or not mine.get("cpu_us"):
            continue
        row = [wl, f"{mine['cpu_us']:.0f} ({mine['rps']:,.0f} req/s)"]
        for label, server in names.items():
            c = _cell(cells, server, wl)
            if not c or not c.get("cpu_us") or not c["valid"]:
                row.append("n/a")
                continue
            ratio = mine["cpu_us"] / c["cpu_us"]
            target = STATE_TARGETS.get((label, wl))
            mark = "" if target is None else f", target ≥ {target:g}× {'✅' if ratio >= target else '❌'}"
            row.append(f"{c['cpu_us']:.0f} ({ratio:.2f}×{mark}; {c['rps']:,.0f} req/s)")
        pair_cell, two_cell = _cell(cells, MEM_TWO, wl), _cell(cells, PG_TWO, wl)
        pair, two = _cpu_over(pair_cell, mine), _cpu_over(two_cell, _cell(cells, PG_ONE, wl))
        row.append("n/a" if pair is None or pair_cell is None else
                   f"{pair_cell['cpu_us']:.0f} ({pair:.2f}×)")
        row.append("n/a" if two is None or two_cell is None else
                   f"{two_cell['cpu_us']:.0f} ({two:.2f}×; {two_cell['rps']:,.0f} req/s)")
        if two is None or pair is None:
            row.append("n/a")
        else:
            shared = two / pair
            row.append(f"{shared:.2f}× (target ≤ {REPLICAS_TARGET:g}× "
                       f"{'✅' if shared <= REPLICAS_TARGET else '❌'})")
        out.append("| " + " | ".join(row) + " |")
    return out


def _cpu_over(cell: dict[str, Any] | None, base: dict[str, Any] | None) -> float | None:
    """CPU per request of `cell` over `base`'s (None unless both are valid measurements)."""
    if not cell or not base or not cell.get("cpu_us") or not base.get("cpu_us") \
            or not cell["valid"] or not base["valid"]:
        return None
    return float(cell["cpu_us"] / base["cpu_us"])


def scaling_lines(scaling: list[dict[str, Any]]) -> list[str]:
    """w2 at each store size, relative to the smallest."""
    if not scaling:
        return ["(not measured)"]
    base = scaling[0]
    out = ["| jobs in the namespace | req/s | p50 | p99 | server CPU / req | p50 vs smallest "
           "| req/s smallest / here | CPU / req vs smallest | target (req/s) |",
           "|---|---|---|---|---|---|---|---|---|"]
    targets = {10_000: 1.3, 100_000: 2.0}
    for row in scaling:
        slow = base["rps"] / row["rps"] if row["rps"] else None
        p50 = row["p50_ms"] / base["p50_ms"] if base["p50_ms"] else None
        t = targets.get(row["jobs"])
        mark = "" if t is None else f"≤ {t:g}× {'✅' if slow is not None and slow <= t else '❌'}"
        cpu = row.get("cpu_us")
        cpu_ratio = cpu / base["cpu_us"] if cpu and base.get("cpu_us") else None
        out.append(f"| {row['jobs']:,} | {row['rps']:,.0f} | {row['p50_ms']:.2f} ms | "
                   f"{row['p99_ms']:.2f} ms | {_fmt(cpu, '.0f', ' µs')} | {_fmt(p50)} | "
                   f"{_fmt(slow)} | {_fmt(cpu_ratio)} | {mark} |")
    return out


def memory_lines(memory: list[dict[str, Any]]) -> list[str]:
    """RSS growth per stored job: over all stored jobs, per job while the namespace's second
    half was added (the target's figure), and per job added since the row above."""
    if not memory:
        return ["(not measured)"]
    out = ["| jobs stored | RSS | RSS growth per job | per job, second half of this namespace | "
           "per job added since the row above | seeding rate | target |",
           "|---|---|---|---|---|---|---|"]
    before: dict[str, Any] | None = None
    for m in memory:
        judged = m.get("marginal_bytes_per_job") or m["bytes_per_job"]
        ok = "✅" if judged <= 2048 else "❌"
        marginal = m.get("marginal_bytes_per_job")
        half = "" if marginal is None else f"{marginal:,.0f} B"
        added = "" if before is None else \
            f"{(m['rss_kib'] - before['rss_kib']) * 1024 / max(1, m['jobs'] - before['jobs']):,.0f} B"
        out.append(f"| {m['jobs']:,} | {m['rss_kib'] / 1024:,.1f} MiB | {m['bytes_per_job']:,.0f} B | "
                   f"{half} | {added} | {m['seed_rate']:,.0f} POST/s | ≤ 2,048 B {ok} |")
        before = m
    return out


def stream_lines(stream: dict[str, Any]) -> list[str]:
    """RSS per job after a fast stream of creates (every job in flight at once, then ended)."""
    if not stream:
        return []
    ok = "✅" if stream["bytes_per_job"] <= 4096 else "❌"
    return [f"RSS per job after a fast stream (`bench/memory.fast_stream`): {stream['jobs']:,} "
            f"imports of 10 inputs created as fast as 16 clients could ({stream['rate']:,.0f} "
            f"POST/s, all in flight together), then ended and listed: RSS "
            f"{stream['base_rss_kib'] / 1024:,.1f} → {stream['rss_kib'] / 1024:,.1f} MiB, "
            f"**{stream['bytes_per_job']:,.0f} B per job** (target ≤ 4,096 B {ok}). Unlike the "
            "table above it keeps the peak of decoded inputs of every running import, which the "
            "allocator holds on to after they end.", ""]


def allocated_lines(allocated: dict[str, Any]) -> list[str]:
    """The exact count: tracemalloc over the in-process create path."""
    if not allocated:
        return []
    ok = "✅" if allocated["bytes_per_job"] <= 2048 else "❌"
    return [f"Allocated per stored job, counted by tracemalloc while {allocated['jobs']:,} imports "
            f"went through the whole app in-process (`python -m bench.memory`): "
            f"**{allocated['bytes_per_job']:,.0f} B** {ok}, counted once the request journal and the "
            "bounded caches (timestamps, encoded links) were full: they stop growing."]


def render(report: dict[str, Any], notes: str = "") -> str:
    """The whole RESULTS.md."""
    m, v, opts = report["machine"], report["versions"], report["options"]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `python -m bench{' --quick' if opts.get('quick') == 'True' else ''}` "
        f"on {report['started']}. Numbers are ratios measured side by side in one run on one "
        "machine; absolute numbers do not carry to other machines.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"server pinned to core {m['server_core']}, load generator to core {m['load_core']}.",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        f"- Each cell: {opts['warmup']} s warm-up, then {opts['seconds']} s of wrk (1 thread, 32 "
        f"keep-alive connections, loopback); the best of {opts.get('repeats', '1')} rounds is kept. "
        "All servers are up at once and measured one at a time, round-robin per workload; CPU time "
        "per request is read from /proc for the server process.",
        "",
        "## Throughput and latency",
        "",
        *throughput_table(report["cells"]),
        "",
        "## Ratios (throughput, ours / other)",
        "",
        *ratio_table(report["cells"]),
        "",
        "Server CPU time per request (from /proc, same cells). When other work shares the "
        "machine, req/s moves with it but CPU per request mostly does not; the ratio other/ours "
        "reads like the throughput ratio above.",
        "",
        *cpu_ratio_table(report["cells"]),
        "",
    ]
    if any(c["server"].startswith(OURS + " · ") for c in report["cells"]):
        lines += ["## State backends (`--state`)", "",
                  "CPU time per request of every server-side process: the replica(s) and, for "
                  "PostgreSQL, the database server (fsync on; all pinned to the server core; the "
                  "two replicas are driven at once, a wrk each with half the connections, as "
                  "a load balancer spreads them). A ratio below 1× "
                  "means the backend spends more CPU per request than memory. Writes are "
                  "committed before they are answered; with two replicas also acknowledged by "
                  "the other one. Two processes on one core cost more per request than one even "
                  "when they share nothing (context switches, caches): two memory servers seeded "
                  "alike and driven the same way measure that, and what two replicas cost beyond "
                  "it is what sharing costs.", "", *state_table(report["cells"]), ""]
    if report["skipped"]:
        lines += ["Not measured:", ""]
        lines += [f"- {name}: {why}" for name, why in report["skipped"].items()]
        lines.append("")
    if report["notes"]:
        lines += ["Run notes:", ""] + [f"- {n}" for n in report["notes"]] + [""]
    lines += ["## List latency vs store size (w2)", "",
              "One namespace per size in one process (all sizes stored at once), measured "
              "round-robin.", "", *scaling_lines(report["scaling"]),
              "", "## Memory per stored job (import with 10 inputs, `--no-limits`)", "",
              *memory_lines(report["memory"]), "",
              "RSS of the server process (from /proc). Each namespace is seeded over HTTP in "
              "batches of 1,000 imports; after each batch the clock moves an hour on and a list "
              "settles them, so every stored import has ended. RSS growth per job: RSS minus RSS "
              "after the first namespace (100 jobs) was seeded and listed (a warm process), over "
              "the later namespaces' jobs together; it also carries one-off growth (each "
              "namespace's request journal of 1,000 entries with bodies, the peak of rows decoded "
              "while a batch ran, freed blocks the allocator keeps), spread over fewer jobs in "
              "the first row. Per job, second half: RSS growth while the second half of that "
              "namespace's batches was added, over those jobs: the cost of one more stored job, "
              "which the target is judged on.", "",
              *stream_lines(report.get("stream") or {}),
              *allocated_lines(report.get("allocated") or {}), "",
              "## Tools", ""]
    if report["spec_seconds"] is not None:
        lines.append(f"- `mock-server spec --out FILE` (whole process, median of 3): "
                     f"{report['spec_seconds']:.2f} s")
    c = report.get("contract") or {}
    if c.get("status") == "ran":
        lines.append(f"- contract suite (`pytest contract_tests`) against the mock: {c['seconds']:.1f} s, "
                     f"exit {c['exit']}: {c['summary']}")
    elif c:
        lines.append(f"- contract suite: {c.get('status')} ({c.get('detail', '')}); the harness "
                     "times it automatically once `contract_tests/test_*.py` exist.")
    lines += ["", "![throughput and p99 per server](results.png)", ""]
    if notes.strip():
        lines += [notes.strip(), ""]
    return "\n".join(lines)


def chart(report: dict[str, Any], path: Path) -> bool:
    """Grouped bars: throughput and p99 per workload and server. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cells = [c for c in report["cells"] if c["valid"]]
    names = _servers(cells)
    wls = list(WORKLOADS)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.8 / max(1, len(names))
    for i, s in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(wls))]
        rps = [(_cell(cells, s, w) or {}).get("rps", 0) for w in wls]
        p99 = [(_cell(cells, s, w) or {}).get("p99_ms", 0) for w in wls]
        axes[0].bar(xs, rps, width, label=s)
        axes[1].bar(xs, p99, width, label=s)
    for ax, title, unit in ((axes[0], "Throughput (higher is better)", "requests/s"),
                            (axes[1], "p99 latency (lower is better)", "ms, log scale")):
        ax.set_xticks(range(len(wls)), wls)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
    axes[1].set_yscale("log")
    top = max((c["rps"] for c in cells), default=1)
    axes[0].set_ylim(0, top * 1.3)  # room for the legend above the bars
    axes[0].legend(fontsize=8, loc="upper center", ncol=3)
    fig.suptitle(f"async-job-mock vs peers, wrk on loopback ({report['started']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
