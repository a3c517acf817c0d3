"""The contract suite passes against the clean mock, in-process and as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from .contract_run import run_contract


def test_full_suite_passes_against_the_in_process_mock(tmp_path: Path) -> None:
    started = time.monotonic()
    done = run_contract("--seed", "1", "--junit", "junit.xml", "--html", "report.html",
                        cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " 0 failed" in done.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) > 50
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "passed" in (tmp_path / "report.html").read_text()
    assert not (tmp_path / ".hypothesis").exists() and not (tmp_path / ".schemathesis").exists()
    print(f"full contract suite: {elapsed:.1f} s")
    assert elapsed < 120  # CI budget is 60 s on an idle runner; twice that flags a regression


@pytest.fixture
def separate_mock() -> Iterator[str]:
    """`mock-server serve --port 0` in its own process; yields its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


def test_contract_command_checks_a_separately_started_mock(separate_mock: str,
                                                           tmp_path: Path) -> None:
    done = run_contract("--base-url", separate_mock, "--client-id", "ci", "--rackspace-token",
                        "ci-token", "--only", "auth,lifecycle,lists", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contract check of " + separate_mock in done.stdout


def test_lifecycle_polls_in_real_time_without_clock_control(tmp_path: Path) -> None:
    """--clock real: what a real server gets; jobs are polled until terminal within the budget."""
    done = run_contract("--clock", "real", "--poll-interval", "0.5", "--poll-budget", "60", "-v",
                        "--only", "lifecycle", "-k", "imports and (runs_to_terminal or interrupt)",
                        cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "PASS  lifecycle: job runs to terminal [imports]" in done.stdout
    assert "PASS  lifecycle: interrupt running job [imports]" in done.stdout


def test_a_run_where_every_request_gets_401_fails(separate_mock: str, tmp_path: Path) -> None:
    done = run_contract("--base-url", separate_mock, "--token", "not-a-jwt", "--api",
                        "commercelayer", "--only", "auth", "-k", "credentials", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "The credentials were refused" in done.stdout


def test_plain_pytest_over_two_workers_replays_state_machine_scenarios_alike() -> None:
    # README: "The same suite runs as plain pytest". The repo's addopts spread it over two
    # workers, where a worker's lifecycle tests leave jobs running before the state machine
    # starts; each scenario must begin with an empty queue, or the 10-active-jobs limit refuses
    # creates in one run and not in its replay (Hypothesis: FlakyStrategyDefinition).
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "contract_tests/test_lifecycle.py",
                           "contract_tests/test_stateful.py", "-n", "2", "-p", "no:randomly"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
