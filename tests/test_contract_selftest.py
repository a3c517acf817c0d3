"""The contract suite fails when the implementation is wrong: one defect at a time.

Each run puts contract_tests.proxy.DefectProxy between the suite and a clean in-process mock,
runs the part of the suite whose rule should see the defect, and expects a failure that names
that rule's finding. The clean mock passing is tests/test_contract_suite.py.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .contract_run import run_contract

# defect → (parts of the suite, -k selection, what the failure must say); one row per check
# (README "What the contract suite checks" names the same pairs).
DEFECTS: dict[str, tuple[str, str, str]] = {
    "status_backwards": ("lifecycle", "runs_to_terminal", r"moved backwards"),
    "terminal_changes": ("lifecycle", "runs_to_terminal", r"terminal (status|state) changed"),
    "counters_over_totals": ("conformance", "POST and imports", r"counter over total"),
    "wrong_media_type": ("conformance", "GET and imports", r"Wrong media type"),
    "interrupt_ignored": ("lifecycle", "interrupt", r"not applied|after a stop request"),
    "broken_pagination": ("lists", "walk", r"link missing|marker is not the last item|duplicates"),
    "auth_not_enforced": ("auth", "auth_enforced and imports", r"Auth not enforced"),
    "undeclared_status": ("conformance", "GET and imports", r"Undocumented (HTTP )?status code"),
    "bad_error_shape": ("auth", "auth_enforced and imports", r"is not JSON:API"),
    "unknown_status": ("lifecycle", "runs_to_terminal", r"unknown status"),
    "timestamps_mismatch": ("lifecycle", "runs_to_terminal", r"`started_at` missing"),
    "created_not_retrievable": ("lifecycle", "runs_to_terminal", r"not retrievable via link"),
    "deleted_still_there": ("lifecycle", "deleted", r"Deleted resource still there"),
    "terminal_accepts_changes": ("lifecycle", "terminal_job_rejects",
                                 r"changed a terminal job|PATCH accepted on a terminal cleanup"),
    "unsorted_lists": ("lists", "pages", r"out of order"),
    "filters_ignored": ("lists", "filters", r"an item does not match"),
    "wrong_mode": ("lifecycle", "runs_to_terminal", r"in the wrong environment"),
    "writes_lost": ("lifecycle", "update", r"written but not kept"),
    "webhooks_unsigned": ("webhooks", "webhooks", r"X-CommerceLayer-Signature is not"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every defect run, two at a time (each is its own process with its own mock)."""
    # Made before the threads start: the first mktemp of a worker empties its base directory,
    # so two threads making the first ones at once could delete each other's.
    wheres = {defect: tmp_path_factory.mktemp(defect) for defect in DEFECTS}

    def run(defect: str) -> subprocess.CompletedProcess[str]:
        only, keyword, _ = DEFECTS[defect]
        receiver = ("--webhook-receiver", "127.0.0.1:0") if only == "webhooks" else ()
        return run_contract("--defect", defect, "--seed", "1", "--max-examples", "3",
                            "--only", only, "-k", keyword, *receiver, cwd=wheres[defect])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(DEFECTS, pool.map(run, DEFECTS), strict=True))


@pytest.mark.parametrize("defect", DEFECTS)
def test_defect_is_caught(defect: str, outcomes: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = outcomes[defect]
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"{defect} went unnoticed:\n{output[-3000:]}"
    assert re.search(DEFECTS[defect][2], output), f"{defect} caught for another reason:\n{output[-3000:]}"


def test_every_defect_has_a_self_test() -> None:
    from contract_tests.defects import DEFECTS as KNOWN

    assert set(KNOWN) - {"credentials_refused"} == set(DEFECTS)


def test_refused_credentials_stop_the_run_with_one_line(tmp_path: Path) -> None:
    done = run_contract("--defect", "credentials_refused", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stdout + done.stderr
    assert "commercelayer credentials were refused" in done.stderr and "--token" in done.stderr


def test_unknown_defect_is_a_usage_error(tmp_path: Path) -> None:
    done = run_contract("--defect", "no_such_defect", "--only", "auth", cwd=tmp_path)
    assert done.returncode != 0 and "unknown defect" in done.stdout + done.stderr
