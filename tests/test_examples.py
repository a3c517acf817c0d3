"""examples/ passes as a user runs it: the installed plugin, no conftest, and on two xdist workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    """pytest on examples/ in a fresh interpreter, from examples/ (its pytest.ini applies)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=300,
    )


def _count(pattern: str, out: str) -> int:
    found = re.search(pattern, out)
    return int(found.group(1)) if found else 0


@cache
def _collected() -> int:
    run = _pytest("--collect-only", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    return _count(r"(\d+) tests? collected", run.stdout)


def test_examples_need_no_conftest() -> None:
    assert not list(EXAMPLES.rglob("conftest.py")), "examples must run on the installed plugin"
    assert list(EXAMPLES.glob("test_*.py"))


def test_examples_pass() -> None:
    run = _pytest()
    assert run.returncode == 0, run.stdout + run.stderr
    assert _count(r"(\d+) passed", run.stdout) == _collected() >= 9


def test_examples_pass_on_two_xdist_workers_without_interfering() -> None:
    run = _pytest("-n", "2", "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _count(r"(\d+) passed", run.stdout) == _collected()
    # both workers ran tests (each has its own session server; tests in one share it)
    assert "[gw0]" in run.stdout and "[gw1]" in run.stdout
