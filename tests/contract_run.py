"""Run `mock-server contract` in a subprocess (its own Hypothesis state), for the contract tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_contract(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`python -m mock_server contract ARGS` with no CONTRACT_* variables leaking in. Its own
    pytest keeps its temporary directories under `cwd`, away from the outer run's (pytest prunes
    old numbered directories of a shared temp root). `timeout` only stops a hung run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    env["PYTEST_DEBUG_TEMPROOT"] = str(cwd)
    try:
        return subprocess.run([sys.executable, "-m", "mock_server", "contract", *args], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:  # a verdict of its own, not an error of the caller
        return subprocess.CompletedProcess(exc.cmd, -1, _text(exc.stdout),
                                           _text(exc.stderr) + f"\nhung: killed after {timeout} s")


def _text(out: bytes | str | None) -> str:
    return out.decode(errors="replace") if isinstance(out, bytes) else (out or "")
