"""The benchmark run: each server in turn on loopback, then scaling, memory and tool timings."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import servers
from .downconvert import write_down_converted
from .load import Result, measure
from .memory import allocated_per_job, fast_stream
from .seed import fetch, record_count, seed
from .servers import ROOT, Running, ServerSpec
from .workloads import SCENARIO_HEADER, WORKLOADS, Workload, build, headers, token

OUT = ROOT / "bench" / "out"


@dataclass(frozen=True, slots=True)
class Options:
    """How long and how big a run is."""

    seconds: float = 5.0
    warmup: float = 1.0
    repeats: int = 2  # each cell is measured this often and the best run kept (noisy machines)
    jobs: int = 10_000  # jobs present for w1, w2 and w4
    scale: tuple[int, ...] = (100, 10_000, 100_000)
    peers: bool = True
    contract: bool = True
    out: Path = OUT
    quick: bool = False
    servers: tuple[str, ...] = ("ours", "uvloop", "before", "ceiling", "prism", "connexion",
                                "state")
    before: str = "d2c7ae6"  # the last commit before "One authority for job state" (issue 16)
    scaling: bool = True

    @classmethod
    def quick_run(cls, out: Path | None = None) -> Options:
        """About a minute: short cells, smaller stores."""
        return cls(seconds=2.0, warmup=0.5, repeats=1, jobs=2_000, scale=(100, 2_000, 10_000),
                   out=out or OUT, quick=True)


@dataclass(slots=True)
class Report:
    """Everything a run measured; report.py turns it into RESULTS.md and the chart."""

    started: str
    options: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    cells: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # server → why it was not measured
    notes: list[str] = field(default_factory=list)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    spec_seconds: float | None = None
    allocated: dict[str, Any] = field(default_factory=dict)  # tracemalloc bytes per job
    stream: dict[str, Any] = field(default_factory=dict)  # RSS per job after a fast stream
    contract: dict[str, Any] = field(default_factory=dict)

    def add(self, result: Result, note: str = "") -> None:
        """Record one cell."""
        self.cells.append({**asdict(result), "valid": result.valid, "note": note})


def cores() -> tuple[int | None, int | None]:
    """(server core, load-generator core): different cores when there are two."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) >= 2:
        return usable[0], usable[1]
    return None, None


def _export_path(run: Running, tok: str, namespace: str, report: Report,
                 scenario: str | None = None) -> str | None:
    body = json.dumps({"data": {"type": "exports", "attributes": {"resource_type": "skus"}}})
    sent = headers(tok, namespace, body=True)
    if scenario:
        sent[SCENARIO_HEADER] = scenario
    status, raw = fetch(run.url, "/api/exports", sent, "POST", body.encode())
    if status == 201:
        path = f"/api/exports/{json.loads(raw)['data']['id']}"
        if not scenario:
            _until_ended(run, path, headers(tok, namespace))
        return path
    if any(n.startswith("w1 reads an import") for n in report.notes):
        return None
    try:
        why = json.loads(raw)["errors"][0]["detail"]
    except (ValueError, KeyError, IndexError, TypeError):
        why = raw[:160].decode(errors="replace")
    report.notes.append(
        f"w1 reads an import, not an export: POST /api/exports answered {status} ({why}); "
        "exports need target records, which the records backend provides. Both are served by "
        "the same handler (`get_job`).")
    return None


def seeded_workloads(run: Running, tok: str, jobs: int, why: str) -> dict[str, Workload]:
    """Seed `jobs` imports into namespace "bench" of a started server of ours, then w1–w4
    against them (the tools beside the harness: profiles, dashboards)."""
    seeded = seed(run.url, tok, "bench", jobs)
    report = Report(why, {})
    single = _export_path(run, tok, "bench", report) or f"/api/imports/{seeded.ids[0]}"
    running = _export_path(run, tok, "bench", report, scenario="stall")
    return build(tok, "bench", single, seeded.ids, post_namespace="w3", running_path=running)


def _until_ended(run: Running, path: str, sent: dict[str, str], limit: float = 120.0) -> None:
    """Poll a job (wall time, the server's clock runs at speed 1) until it has ended, so that
    w1 reads an ended export from its first request on."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status, raw = fetch(run.url, path, sent)
        if status != 200 or json.loads(raw)["data"]["attributes"]["status"] not in (
                "pending", "in_progress"):
            return
        time.sleep(0.2)


def _check(run: Running, workload: Workload) -> str | None:
    """Why a server cannot be measured on a workload (None when it answers 2xx)."""
    unique = {(r.method, r.path, r.body): r for r in workload.requests}
    for req in unique.values():
        status, raw = fetch(run.url, req.path, req.headers, req.method, req.body)
        if status >= 400:
            return f"{req.method} {req.path.split('?')[0]} → {status}: {raw[:200].decode(errors='replace')}"
    return None


@dataclass(slots=True)
class Contender:
    """A started server and the workloads it is measured on."""

    run: Running
    loads: dict[str, Workload]
    best: dict[str, Result] = field(default_factory=dict)
    pids: Callable[[], list[int]] | None = None  # every process it runs on (default: run's)
    urls: list[str] | None = None  # replicas driven at once (default: run's url)

    def processes(self) -> list[int]:
        """The processes whose CPU time is the server's."""
        return self.pids() if self.pids is not None else [self.run.proc.pid]


def _ours(spec: ServerSpec, opts: Options, report: Report, tok: str, server_core: int | None,
          ) -> tuple[Contender, tuple[str, str | None], tuple[str, ...], dict[str, str]]:
    """Start and seed one variant of our server; returns it, the w1 and w1r paths, ids and
    ceiling bodies."""
    print(f"{spec.name}: seeding {opts.jobs} imports", flush=True)
    run = servers.start(spec, server_core, opts.out / "logs")
    try:
        seeded = seed(run.url, tok, "bench", opts.jobs)
        if seeded.failed:
            report.notes.append(f"{spec.name}: {seeded.failed} of {opts.jobs} seed POSTs failed")
        single = _export_path(run, tok, "bench", report) or f"/api/imports/{seeded.ids[0]}"
        running = _export_path(run, tok, "bench", report, scenario="stall")
        loads = build(tok, "bench", single, seeded.ids, post_namespace="w3", running_path=running)
        bodies = {}
        for key, wl in (("GET /api/imports/", "w1"), ("GET /api/imports", "w2"),
                        ("POST /api/imports", "w3")):
            req = loads[wl].requests[0]
            bodies[key] = fetch(run.url, req.path, req.headers, req.method, req.body)[1].decode()
        bodies["GET /api/exports/"] = bodies["GET /api/imports/"]
        if single.startswith("/api/exports/"):
            req = loads["w1"].requests[0]
            bodies["GET /api/exports/"] = fetch(run.url, req.path, req.headers)[1].decode()
        if running:
            req = loads["w1r"].requests[0]
            bodies[f"GET {running}"] = fetch(run.url, req.path, req.headers)[1].decode()
    except BaseException:
        servers.stop(run)
        raise
    return Contender(run, loads), (single, running), seeded.ids, bodies


def _peer(spec: ServerSpec | None, name: str, loads: dict[str, Workload], opts: Options,
          report: Report, server_core: int | None) -> Contender | None:
    if spec is None:
        report.skipped[name] = "not installed (run bench/run.sh)"
        return None
    print(f"{spec.name}: starting", flush=True)
    try:
        run = servers.start(spec, server_core, opts.out / "logs")
    except RuntimeError as exc:
        lines = [ln for ln in str(exc).splitlines() if "Error" in ln or "Exception" in ln]
        why = (lines[-1] if lines else str(exc).splitlines()[0]).strip()[:300]
        report.skipped[name] = f"failed to start: {why} (log: bench/out/logs/)"
        print(f"  skipped: {why}", flush=True)
        return None
    return Contender(run, loads)


def compare(contenders: list[Contender], opts: Options, report: Report,
            load_core: int | None) -> None:
    """Round-robin: each repeat measures every workload on every server back to back.

    All servers stay up (an idle one costs nothing), so a burst of outside load hits every
    contender of a round alike instead of whichever server happened to be measured then.
    """
    live = []
    for c in contenders:
        for name in WORKLOADS:
            problem = _check(c.run, c.loads[name])
            if problem:
                report.notes.append(f"{c.run.spec.name} {name}: not measured, {problem}")
            else:
                live.append((c, name))
    for rnd in range(max(1, opts.repeats)):
        print(f"round {rnd + 1} of {max(1, opts.repeats)}", flush=True)
        for name in WORKLOADS:
            for c, wl in live:
                if wl != name:
                    continue
                r = measure(c.urls or c.run.url, c.loads[wl], c.run.spec.name, opts.seconds,
                            load_core, opts.warmup, c.processes())
                print(f"  {wl} {c.run.spec.name:20s} {r.rps:9.0f} req/s  p50 {r.p50_ms:7.2f} ms  "
                      f"p99 {r.p99_ms:7.2f} ms  cpu {r.cpu_us or 0:6.0f} µs/req  "
                      f"errors {r.errors}", flush=True)
                old = c.best.get(wl)
                if old is None or (r.valid, r.rps) > (old.valid, old.rps):
                    c.best[wl] = r
    for c in contenders:
        for name in WORKLOADS:
            if name in c.best:
                report.add(c.best[name])


@dataclass(frozen=True, slots=True)
class Step:
    """One batch of `_seed_ended`: jobs the namespace holds after it, RSS then, seconds taken."""

    stored: int
    rss_kib: int
    seconds: float


def _seed_ended(run: Running, tok: str, namespace: str, count: int, batch: int = 1_000
                ) -> list[Step]:
    """Create `count` imports in batches; after each the clock moves an hour on and a read
    settles them, so stored jobs have ended and at most `batch` imports run at once (a fleet
    creating steadily, not every import at one instant, whose decoded rows would all be alive
    together at the jump)."""
    steps: list[Step] = []
    done = 0
    while done < count:
        seeded = seed(run.url, tok, namespace, min(batch, count - done))
        fetch(run.url, "/_mock/clock", {"Content-Type": "application/json"}, "POST",
              b'{"advance": 3600}')
        done = record_count(run.url, tok, namespace)
        steps.append(Step(done, run.rss_kib(), seeded.seconds))
        if seeded.created == 0:
            break
    return steps


def scaling_and_memory(opts: Options, report: Report, tok: str, server_core: int | None,
                       load_core: int | None) -> None:
    """RSS per stored job while seeding, then w2 round-robin over one namespace per store size.

    One fresh process holds every size at once (namespaces of 100, 10,000 and 100,000 imports),
    so the sizes are measured back to back under the same outside load.
    """
    print(f"scaling: w2 at {', '.join(map(str, opts.scale))} jobs", flush=True)
    run = servers.start(servers.ours(), server_core, opts.out / "logs")
    try:
        loads = {size: build(tok, f"scale-{size}", "/api/imports/none", ())["w2"]
                 for size in opts.scale}
        base_rss = stored = 0
        for i, size in enumerate(opts.scale):
            steps = _seed_ended(run, tok, f"scale-{size}", size)
            have = steps[-1].stored
            if i == 0:  # warm: serve the first size, then take the baseline
                measure(run.url, loads[size], "warm", min(opts.seconds, 3), load_core, 0)
                base_rss = run.rss_kib()
                continue
            stored += have
            rss = run.rss_kib()
            half = steps[len(steps) // 2 - 1] if len(steps) > 1 else None
            marginal = None if half is None else \
                (steps[-1].rss_kib - half.rss_kib) * 1024 / max(1, have - half.stored)
            seconds = sum(st.seconds for st in steps)
            report.memory.append({"jobs": stored, "rss_kib": rss, "base_rss_kib": base_rss,
                                  "bytes_per_job": (rss - base_rss) * 1024 / max(1, stored),
                                  "marginal_bytes_per_job": marginal,
                                  "seed_rate": have / max(seconds, 1e-9)})
            print(f"  +{stored} jobs: RSS {rss} KiB, "
                  f"{report.memory[-1]['bytes_per_job']:.0f} B/job, second half "
                  f"{marginal or 0:.0f} B/job", flush=True)
        found: dict[int, Result] = {}
        for _ in range(max(1, opts.repeats)):
            for size in opts.scale:
                r = measure(run.url, loads[size], f"w2@{size}", opts.seconds, load_core,
                            opts.warmup, run.proc.pid)
                print(f"  w2@{size}: {r.rps:9.0f} req/s  p50 {r.p50_ms:7.2f} ms  "
                      f"p99 {r.p99_ms:7.2f} ms  cpu {r.cpu_us or 0:6.0f} µs/req", flush=True)
                if size not in found or (r.valid, r.rps) > (found[size].valid, found[size].rps):
                    found[size] = r
        report.scaling = [{**asdict(found[size]), "jobs": size} for size in opts.scale]
    finally:
        servers.stop(run)


def spec_seconds(out: Path, runs: int = 3) -> float:
    """Median wall time of `mock-server spec --out FILE` (a whole process, as users run it)."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mock_server", "spec", "--out", str(out / "spec.yaml")],
                       cwd=ROOT, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def contract_suite(timeout: float) -> dict[str, Any]:
    """Time the contract suite against the mock, or say it is pending."""
    suite = ROOT / "contract_tests"
    if not any(suite.glob("test_*.py")):
        return {"status": "pending", "detail": "contract_tests/ has no test files yet"}
    began = time.perf_counter()
    try:
        # pyproject's addopts already say -q; the summary line ("N passed in …") is the last.
        done = subprocess.run([sys.executable, "-m", "pytest", str(suite)], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": timeout}
    lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
    return {"status": "ran", "seconds": time.perf_counter() - began, "exit": done.returncode,
            "summary": lines[-1] if lines else ""}


def run(opts: Options) -> Report:
    """A whole benchmark run; writes bench/out/results.json and returns the report."""
    from .report import describe_machine, versions

    opts.out.mkdir(parents=True, exist_ok=True)
    server_core, load_core = cores()
    if load_core is not None:
        os.sched_setaffinity(0, {load_core})  # the seeder and wrk stay off the server's core
    report = Report(time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    {k: str(v) for k, v in asdict(opts).items()})
    report.machine = describe_machine(server_core, load_core)
    report.versions = versions()
    tok = token()

    contenders: list[Contender] = []
    rig = None
    try:
        mine, (single, running), ids, bodies = _ours(servers.ours(), opts, report, tok, server_core)
        contenders.append(mine)
        if report.versions.get("uvloop") and "uvloop" in opts.servers:
            contenders.append(_ours(servers.ours_uvloop(), opts, report, tok, server_core)[0])
        if "before" in opts.servers:
            earlier = servers.before(opts.before, opts.out)
            if earlier is None:
                report.skipped[servers.BEFORE] = f"git revision {opts.before} not available"
            else:
                contenders.append(_ours(earlier, opts, report, tok, server_core)[0])
        bodies_file = opts.out / "ceiling_bodies.json"
        bodies_file.write_text(json.dumps(bodies))
        peer_loads = build(tok, None, single, ids, running_path=running)
        spec = ROOT / "openapi.yaml"
        wanted: list[tuple[str, ServerSpec | None]] = []
        if "ceiling" in opts.servers:
            wanted.append(("aiohttp ceiling", servers.ceiling(bodies_file)))
        if opts.peers and "prism" in opts.servers:
            wanted.append(("prism", servers.prism(spec)))
        if opts.peers and "connexion" in opts.servers:
            spec_30 = write_down_converted(spec, opts.out / "openapi-3.0.yaml")
            wanted.append(("connexion", servers.connexion(spec_30)))
        for name, server_spec in wanted:
            peer = _peer(server_spec, name, peer_loads, opts, report, server_core)
            if peer is not None:
                contenders.append(peer)
        if "state" in opts.servers:
            from . import state

            kept, rig = state.contenders(
                opts, report, tok, server_core,
                lambda spec: _ours(spec, opts, report, tok, server_core)[0])
            contenders.extend(kept)
        compare(contenders, opts, report, load_core)
    finally:
        for c in contenders:
            servers.stop(c.run)
        if rig is not None:
            rig.stop()
    if opts.scaling:
        scaling_and_memory(opts, report, tok, server_core, load_core)
        print("spec generation", flush=True)
        report.spec_seconds = spec_seconds(opts.out)
        stream_jobs = 2_000 if opts.quick else 9_900
        print(f"RSS per job after a fast stream of {stream_jobs} creates", flush=True)
        run = servers.start(servers.ours(), server_core, opts.out / "logs")
        try:
            report.stream = fast_stream(run, tok, stream_jobs)
        finally:
            servers.stop(run)
        count = 2_000 if opts.quick else 3_000
        print(f"allocations per job (tracemalloc, {count} imports in-process)", flush=True)
        per_job, made = allocated_per_job(count, warm=500 if opts.quick else 5_000)
        report.allocated = {"bytes_per_job": per_job, "jobs": made}
    if opts.contract:
        print("contract suite", flush=True)
        report.contract = contract_suite(120 if opts.quick else 300)
    (opts.out / "results.json").write_text(json.dumps(asdict(report), indent=1, default=str))
    return report
