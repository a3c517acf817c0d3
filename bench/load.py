"""Load generators: wrk (the real one, pinned to its own core) and a small asyncio fallback."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .workloads import Workload

CONNECTIONS = 32


@dataclass(frozen=True, slots=True)
class Result:
    """One measured (server, workload) cell."""

    server: str
    workload: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors
    tool: str
    cpu_us: float | None = None  # server CPU time per request: steadier than req/s on a busy box

    @property
    def valid(self) -> bool:
        """A run where more than 1% of answers failed measures errors, not the workload."""
        return self.requests > 0 and self.errors <= 0.01 * self.requests


def _lua_string(text: str) -> str:
    level = "=" * 3
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def lua_script(workload: Workload) -> str:
    """A wrk script cycling the workload's requests and printing a JSON summary."""
    # Built in init(): wrk.format only fills in Host once wrk has resolved the target.
    lines = ["local reqs = {}", "function init(args)"]
    for i, req in enumerate(workload.requests, 1):
        hdrs = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in req.headers.items())
        body = _lua_string(req.body.decode()) if req.body is not None else "nil"
        lines.append(f"  reqs[{i}] = wrk.format({_lua_string(req.method)}, "
                     f"{_lua_string(req.path)}, {{{hdrs}}}, {body})")
    lines += [
        "end",
        "local i = 0",
        "function request()",
        "  i = i + 1",
        "  return reqs[(i - 1) % #reqs + 1]",
        "end",
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format('BENCHJSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,"
        "\"p50_us\":%d,\"p99_us\":%d}\\n', summary.requests, summary.duration,"
        " e.status + e.connect + e.read + e.write + e.timeout,"
        " latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def parse_wrk(output: str, server: str, workload: str) -> Result:
    """The Result of a wrk run from its stdout (the script's BENCHJSON line)."""
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
    data = json.loads(line[len("BENCHJSON "):])
    seconds = max(data["duration_us"], 1) / 1e6
    return Result(server, workload, data["requests"] / seconds, data["p50_us"] / 1000,
                  data["p99_us"] / 1000, data["requests"], data["errors"], "wrk")


def have_wrk() -> bool:
    """True when wrk is on PATH."""
    return shutil.which("wrk") is not None


def pinned(argv: list[str], core: int | None) -> list[str]:
    """argv run on one core with taskset, when there is a core to spare and taskset exists."""
    if core is None or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", str(core), *argv]


def run_wrk(url: str, workload: Workload, server: str, seconds: float, core: int | None,
            connections: int = CONNECTIONS) -> Result:
    """Drive `url` with wrk for `seconds` (one thread, `connections` keep-alive connections)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(workload))
        script = fh.name
    try:
        argv = pinned(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                       "--timeout", "10s", "-s", script, url], core)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        Path(script).unlink(missing_ok=True)
    return parse_wrk(done.stdout + done.stderr, server, workload.name)


async def _drive(url: str, workload: Workload, seconds: float, max_requests: int | None,
                 connections: int) -> tuple[list[float], int, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline and (max_requests is None or counter < max_requests):
            req = workload.requests[counter % len(workload.requests)]
            counter += 1
            began = time.perf_counter()
            try:
                async with session.request(req.method, url + req.path, headers=req.headers,
                                           data=req.body) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    return latencies, errors, time.perf_counter() - began


def run_python(url: str, workload: Workload, server: str, seconds: float,
               max_requests: int | None = None, connections: int = 8) -> Result:
    """Closed-loop asyncio load (fallback without wrk, and the smoke test); bounded both ways."""
    latencies, errors, took = asyncio.run(_drive(url, workload, seconds, max_requests, connections))
    latencies.sort()
    n = len(latencies)

    def pct(q: float) -> float:
        return latencies[min(n - 1, int(q * n))] * 1000 if n else 0.0

    return Result(server, workload.name, n / took if took else 0.0, pct(0.50), pct(0.99), n,
                  errors, "python")


def cpu_seconds(pid: int, gone: float = 0.0) -> float:
    """User + system CPU time a process has used so far (from /proc); `gone` if it exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return gone
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk_spread(urls: Sequence[str], workload: Workload, server: str, seconds: float,
                   core: int | None) -> Result:
    """Drive several replicas at once, as a load balancer would: one wrk per URL, the
    connections shared out; requests and errors add up, latency is the worst of them."""
    from concurrent.futures import ThreadPoolExecutor

    each = max(1, CONNECTIONS // len(urls))
    with ThreadPoolExecutor(len(urls)) as pool:
        parts = list(pool.map(lambda u: run_wrk(u, workload, server, seconds, core, each), urls))
    n = sum(p.requests for p in parts)
    return replace(parts[0], rps=sum(p.rps for p in parts), requests=n,
                   errors=sum(p.errors for p in parts), p50_ms=max(p.p50_ms for p in parts),
                   p99_ms=max(p.p99_ms for p in parts))


def measure(url: str | Sequence[str], workload: Workload, server: str, seconds: float,
            core: int | None, warmup: float = 1.0, pid: int | Sequence[int] | None = None
            ) -> Result:
    """Warm up, then measure one cell with the best load generator available; `url`: the
    server, or its replicas (driven at once); `pid`: the server's process (or processes:
    replicas and their database), whose CPU time is summed."""
    if not isinstance(url, str):
        urls = list(url)
        drive = (lambda s: run_wrk_spread(urls, workload, server, s, core)) if have_wrk() \
            else (lambda s: run_python(urls[0], workload, server, s))
    else:
        drive = (lambda s, url=url: run_wrk(url, workload, server, s, core)) if have_wrk() \
            else (lambda s, url=url: run_python(url, workload, server, s))
    if warmup > 0:
        drive(warmup)
    pids = [] if pid is None else [pid] if isinstance(pid, int) else list(pid)
    before = {p: cpu_seconds(p) for p in pids}
    result = drive(seconds)
    if pids and result.requests:  # a process gone meanwhile (a database connection) adds 0
        spent = sum(cpu_seconds(p, t) - t for p, t in before.items())
        result = replace(result, cpu_us=1e6 * spent / result.requests)
    return result
