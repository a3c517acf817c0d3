"""The contract suite's verdicts: green against a good mock (in-process and over HTTP, seed after
seed), red with a one-line reason per check against a frozen mock, a mock whose jobs never end and
a stateless mock of openapi.yaml; and output a CI user can read."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from contract_tests.model import load_spec

from .contract_run import run_contract
from .fixtures.durability import Child
from .fixtures.proxy import RoundRobin
from .stateless_server import StatelessServer

ROOT = Path(__file__).resolve().parents[1]
NEVER_ENDS = {"rules": [{"match": {"type": kind}, "scenario": {"stall": True}}
                        for kind in ("imports", "exports", "cleanups", "rackspace_cleanups")]}
REAL_TIME = ("--clock", "real", "--poll-interval", "0.25", "--poll-budget", "2")


def _passed(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = [line for line in done.stdout.splitlines() if " passed, " in line]
    assert len(summary) == 1 and " 0 failed, 0 skipped" in summary[0], done.stdout[-2000:]
    assert int(summary[0].split()[0]) > 90, summary


@pytest.mark.parametrize("seed", [1, 2])  # more seeds: the state file, replica and separate runs
def test_full_suite_passes_against_the_in_process_mock(seed: int, tmp_path: Path) -> None:
    done = run_contract("--seed", str(seed), "--junit", "junit.xml", "--html", "report.html",
                        cwd=tmp_path)
    _passed(done)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) > 90
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert "passed" in (tmp_path / "report.html").read_text()
    assert not (tmp_path / ".hypothesis").exists() and not (tmp_path / ".schemathesis").exists()


def _serve(*flags: str) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--quiet", "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def separate_mock() -> Iterator[str]:
    """`mock-server serve --port 0` in its own process; yields its URL."""
    yield from _serve()


@pytest.fixture
def frozen_mock() -> Iterator[str]:
    yield from _serve("--frozen")


@pytest.fixture
def never_ending_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("never") / "mock.yaml"
    config.write_text(yaml.safe_dump(NEVER_ENDS))
    yield from _serve("--config", str(config))


@pytest.mark.parametrize("seed", [3])
def test_full_suite_passes_against_a_separately_started_mock(separate_mock: str, seed: int,
                                                             tmp_path: Path) -> None:
    done = run_contract("--base-url", separate_mock, "--client-id", "ci", "--rackspace-token",
                        "ci-token", "--seed", str(seed), cwd=tmp_path)
    _passed(done)
    assert "Contract check of " + separate_mock in done.stdout


def test_full_suite_passes_against_a_mock_on_a_state_file(tmp_path: Path) -> None:
    for url in _serve("--state", str(tmp_path / "mock.db")):
        done = run_contract("--base-url", url, "--client-id", "ci", "--rackspace-token",
                            "ci-token", "--seed", "6", cwd=tmp_path)
    _passed(done)


def test_full_suite_passes_against_two_replicas_behind_a_round_robin_proxy(
        pg_url: str, tmp_path: Path) -> None:
    a, b = Child("--state", pg_url), Child("--state", pg_url)
    try:
        with RoundRobin([a.url, b.url]) as proxy:
            done = run_contract("--base-url", proxy.url, "--client-id", "ci",
                                "--rackspace-token", "ci-token", "--seed", "7", cwd=tmp_path)
            assert min(proxy.sent.values()) > 100  # both replicas served the suite
    finally:
        a.stop()
        b.stop()
    _passed(done)


def test_lifecycle_polls_in_real_time_without_clock_control(tmp_path: Path) -> None:
    """--clock real: what a real server gets; jobs are polled until terminal within the budget."""
    done = run_contract("--clock", "real", "--poll-interval", "0.5", "--poll-budget", "60", "-v",
                        "--only", "lifecycle", "-k", "imports and (runs_to_terminal or interrupt)",
                        cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "PASS  lifecycle: job runs to terminal [imports]" in done.stdout
    assert "PASS  lifecycle: interrupt running job [imports]" in done.stdout


def _failed_checks(stdout: str) -> dict[str, str]:
    """FAIL label → the reason lines under it (the short report)."""
    out: dict[str, str] = {}
    label = None
    for line in stdout.splitlines():
        if line.startswith("  FAIL  "):
            label = line.removeprefix("  FAIL  ")
            out[label] = ""
        elif label and line.startswith("        "):
            out[label] += line.strip() + "\n"
        else:
            label = None
    return out


def test_a_frozen_mock_checked_in_real_time_fails(frozen_mock: str, tmp_path: Path) -> None:
    """No clock control and jobs that never move: no verdict is a failure, with its reason."""
    done = run_contract("--base-url", frozen_mock, "--client-id", "ci", "--rackspace-token", "t",
                        *REAL_TIME, "--only", "lifecycle,lists", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    failed = _failed_checks(done.stdout)
    reason = failed["lifecycle: job runs to terminal [imports]"]
    assert "still `pending` when the real-time polling budget ran out" in reason, reason
    assert "SKIP" not in done.stdout


def test_a_server_that_refuses_every_create_fails_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(yaml.safe_dump({"faults": [
        {"path": "/api/imports", "method": "POST", "status": 422}]}))
    for url in _serve("--config", str(config)):
        done = run_contract("--base-url", url, "--client-id", "ci", "--api", "commercelayer",
                            "--only", "lifecycle", "-k", "runs_to_terminal and imports",
                            cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    reason = _failed_checks(done.stdout)["lifecycle: job runs to terminal [imports]"]
    assert "The server refused every create" in reason and "422" in reason, reason
    assert "SKIP" not in done.stdout


def test_a_mock_whose_jobs_never_end_fails(never_ending_mock: str, tmp_path: Path) -> None:
    done = run_contract("--base-url", never_ending_mock, "--client-id", "ci", "--rackspace-token",
                        "t", "--only", "lifecycle", "-k", "runs_to_terminal", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    failed = _failed_checks(done.stdout)
    assert len(failed) == 4, done.stdout
    for label, reason in failed.items():
        assert "virtual seconds of the mock's clock" in reason, (label, reason)


@pytest.fixture(params=["static", "dynamic"])
def stateless(request: pytest.FixtureRequest) -> Iterator[StatelessServer]:
    """A Prism-like stateless mock of openapi.yaml (static: same body; dynamic: random values)."""
    server = StatelessServer(load_spec(str(ROOT / "openapi.yaml")),
                             dynamic=request.param == "dynamic").start()
    yield server
    server.stop()


def test_a_stateless_mock_fails_every_multi_request_check(stateless: StatelessServer,
                                                          tmp_path: Path) -> None:
    done = run_contract("--base-url", stateless.url, "--token", "t", "--rackspace-token", "t",
                        "--poll-interval", "0.25", "--poll-budget", "2", "--only",
                        "lifecycle,lists", "-v", cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    # It answers /_mock/clock from the spec, but an advance moves nothing: never taken for the
    # mock, so no namespace header and no clock moves after that one probe.
    posts = [p for m, p, _ in stateless.seen if m == "POST" and p == "/_mock/clock"]
    assert len(posts) == 1
    assert not any("X-Mock-Namespace" in h for _, _, h in stateless.seen)
    failed = _failed_checks(done.stdout.split("Contract check of", 1)[1])
    assert not [line for line in done.stdout.splitlines() if line.startswith("  PASS  ")]
    terminal = ("still `pending` when the real-time polling budget ran out"
                if stateless.sampler.rng is None else "terminal status changed")
    expected = {  # check → what the stateless server gets wrong there, seen only across requests
        "lifecycle: job runs to terminal [imports]": terminal,
        "lifecycle: interrupt running job [imports]": "`_interrupt` accepted but not applied",
        "lifecycle: update shows on the next read [imports]": "written but not kept",
        "lifecycle: created job is retrievable and deleted is gone [imports]":
            "Deleted resource still there",
    }
    for label, words in expected.items():
        assert words in failed.get(label, ""), (label, failed.get(label))
    if stateless.sampler.rng is not None:
        assert "moved backwards" in done.stdout


def test_default_output_is_the_short_report(tmp_path: Path) -> None:
    done = run_contract("--defect", "status_backwards", "--only", "lifecycle", "-k",
                        "runs_to_terminal", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert not [ln for ln in lines if ln.startswith(("E ", "Traceback", "FAILED ", "====="))]
    assert len([ln for ln in lines if " passed, " in ln]) == 1
    assert len(_failed_checks(done.stdout)) == 4 and len(lines) < 40, done.stdout
    # the reproducer names the run's namespace and where `mock-server serve` listens; the
    # in-process port is gone, and secrets come from variables the report explains
    curl = next(ln.strip() for ln in lines if ln.strip().startswith("curl "))
    assert "X-Mock-Namespace: contract-" in curl and "http://127.0.0.1:8080/api/" in curl
    assert '"Authorization: Bearer $CONTRACT_TOKEN"' in curl
    assert "Set CONTRACT_TOKEN" in done.stdout and "mock-server serve" in done.stdout
    verbose = run_contract("--defect", "status_backwards", "--only", "lifecycle", "-k",
                           "runs_to_terminal and imports", "-v", cwd=tmp_path)
    assert "E   " in verbose.stdout and "moved backwards" in verbose.stdout


def test_missing_credentials_stop_the_run_with_one_line(separate_mock: str,
                                                        tmp_path: Path) -> None:
    done = run_contract("--base-url", separate_mock, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and "--token" in done.stderr, done.stderr
    assert "--rackspace-token" in done.stderr


def test_refused_credentials_stop_the_run_with_one_line(separate_mock: str,
                                                        tmp_path: Path) -> None:
    done = run_contract("--base-url", separate_mock, "--token", "not-a-jwt", "--api",
                        "commercelayer", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1, done.stderr
    assert "commercelayer credentials were refused (GET /api/imports → 401" in done.stderr
    assert "pass a valid --token" in done.stderr


def test_contract_without_its_extra_names_the_install_command() -> None:
    blocked = "import sys; sys.modules['pytest'] = None; from mock_server.cli import main; " \
              "sys.exit(main(['contract', '--help']))"
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("mock-server contract needs pytest: pip install "
                                   "'async-job-mock[contract]' (from a checkout: pip install -e "
                                   "'.[contract]')")


def test_plain_pytest_over_two_workers_replays_state_machine_scenarios_alike() -> None:
    # README: "The same suite runs as plain pytest". The repo's addopts spread it over two
    # workers, where a worker's lifecycle tests leave jobs running before the state machine
    # starts; each scenario runs in its own namespace, so a replay sees what its first run saw.
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "contract_tests/test_lifecycle.py",
                           "contract_tests/test_stateful.py", "-n", "2", "-p", "no:randomly"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_webhook_checks_run_only_when_asked_and_pass_against_the_mock(tmp_path: Path) -> None:
    done = run_contract("--only", "webhooks", "--webhook-receiver", "127.0.0.1:0", "-v",
                        cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASS  test_webhooks" in done.stdout and "1 passed, 0 failed" in done.stdout
    alone = run_contract("--only", "webhooks", cwd=tmp_path)
    assert alone.returncode == 2 and alone.stderr.count("\n") == 1
    assert "--webhook-receiver HOST:PORT" in alone.stderr
