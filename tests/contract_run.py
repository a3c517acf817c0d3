"""Run `mock-server contract` in a subprocess (its own Hypothesis state), for the contract tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_contract(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`python -m mock_server contract ARGS` with no CONTRACT_* variables leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    return subprocess.run([sys.executable, "-m", "mock_server", "contract", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)
