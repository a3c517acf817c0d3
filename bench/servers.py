"""Start, probe and stop each server under test as its own process on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .load import pinned

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to launch one server; `{port}` in argv is filled in at start."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""
    cwd: Path | None = None  # where it runs (default: this checkout)


@dataclass(slots=True)
class Running:
    """A started server process."""

    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://{HOST}:{self.port}"

    def rss_kib(self) -> int:
        """Resident set size of the server process (KiB)."""
        return rss_kib(self.proc.pid)


def rss_kib(pid: int) -> int:
    """VmRSS of a process, from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def ours(extra: tuple[str, ...] = (), name: str = "mock-server") -> ServerSpec:
    """`mock-server serve --no-limits` (the lifted 10-at-once limit lets w3 create freely)."""
    return ServerSpec(name, (sys.executable, "-m", "mock_server", "serve", "--quiet", "--no-limits",
                             "--host", HOST, "--port", "{port}", *extra))


def ours_uvloop() -> ServerSpec:
    """The same server with uvloop's event loop policy installed first."""
    return ServerSpec("mock-server+uvloop", (sys.executable, "-m", "bench.uvloop_serve", "serve",
                                             "--quiet", "--no-limits", "--host", HOST, "--port", "{port}"))


BEFORE = "before the redesign"


def before(rev: str, out: Path) -> ServerSpec | None:
    """This server as it was at git revision `rev` (a detached worktree under `out`), measured
    in the same run, so "no slower than before" is a ratio of one run, not of two machines."""
    where = out / f"before-{rev}"
    if not where.exists():
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f",
                               str(where), rev], capture_output=True, text=True, check=False)
        if made.returncode != 0:
            return None
    return ServerSpec(BEFORE, (sys.executable, "-m", "mock_server", "serve", "--no-limits",
                               "--host", HOST, "--port", "{port}"),
                      env={"PYTHONPATH": str(where)}, cwd=where, note=f"git {rev}")


def ceiling(bodies: Path) -> ServerSpec:
    """The bare aiohttp app."""
    return ServerSpec("aiohttp ceiling", (sys.executable, "-m", "bench.ceiling", "--host", HOST,
                                          "--port", "{port}", "--bodies", str(bodies)))


def prism(spec: Path) -> ServerSpec | None:
    """`prism mock` at its fastest setting (-v error: no per-request logging)."""
    binary = BENCH / ".node" / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        return None
    return ServerSpec("prism", (str(binary), "mock", str(spec), "-h", HOST, "-p", "{port}",
                                "-v", "error"))


def connexion(spec_30: Path) -> ServerSpec | None:
    """connexion's --mock=all app, from bench/.venv, on a down-converted 3.0 copy."""
    python = BENCH / ".venv" / "bin" / "python"
    if not python.exists():
        return None
    return ServerSpec("connexion", (str(python), "-m", "bench.peer_connexion", "--spec",
                                    str(spec_30), "--host", HOST, "--port", "{port}"),
                      note="OpenAPI 3.0.3 copy")


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/", timeout=2).close()
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is serving
    except (urllib.error.URLError, OSError):
        return False
    return True


def start(spec: ServerSpec, core: int | None, logs: Path, timeout: float = 90.0) -> Running:
    """Launch and wait until the server answers HTTP; raises with its log on failure."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in spec.argv]
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{spec.name.replace(' ', '_').replace('+', '_')}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), **spec.env}
    with open(log, "wb") as out:
        proc = subprocess.Popen(pinned(argv, core), cwd=spec.cwd or ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    running = Running(spec, proc, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{spec.name} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if _answers(running.url):
            return running
        time.sleep(0.2)
    stop(running)
    raise RuntimeError(f"{spec.name} did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def stop(running: Running) -> None:
    """Terminate the server we started (by its own pid) and wait for it."""
    if running.proc.poll() is None:
        running.proc.terminate()
        try:
            running.proc.wait(10)
        except subprocess.TimeoutExpired:
            running.proc.kill()
            running.proc.wait(10)
