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

# defect → (parts of the suite, -k selection, what the failure must say)
DEFECTS: dict[str, tuple[str, str, str]] = {
    "status_backwards": ("lifecycle", "runs_to_terminal", r"moved backwards"),
    "terminal_changes": ("lifecycle", "runs_to_terminal", r"terminal (status|state) changed"),
    "counters_over_totals": ("conformance", "POST and imports", r"counter over total"),
    "wrong_media_type": ("conformance", "GET and imports", r"Wrong media type"),
    "interrupt_ignored": ("lifecycle", "interrupt", r"not applied|after a stop request"),
    "broken_pagination": ("lists", "walk", r"link missing|marker is not the last item|duplicates"),
    "auth_not_enforced": ("auth", "auth_enforced and imports", r"Auth not enforced"),
    "undeclared_status": ("conformance", "GET and imports", r"Undocumented (HTTP )?status code"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every defect run, two at a time (each is its own process with its own mock)."""
    def run(defect: str) -> subprocess.CompletedProcess[str]:
        where = tmp_path_factory.mktemp(defect)
        only, keyword, _ = DEFECTS[defect]
        return run_contract("--defect", defect, "--seed", "1", "--max-examples", "3",
                            "--only", only, "-k", keyword, cwd=where)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(DEFECTS, pool.map(run, DEFECTS), strict=True))


@pytest.mark.parametrize("defect", DEFECTS)
def test_defect_is_caught(defect: str, outcomes: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = outcomes[defect]
    output = done.stdout + done.stderr
    assert done.returncode == 1, f"{defect} went unnoticed:\n{output[-3000:]}"
    assert re.search(DEFECTS[defect][2], output), f"{defect} caught for another reason:\n{output[-3000:]}"


def test_unknown_defect_is_a_usage_error(tmp_path: Path) -> None:
    done = run_contract("--defect", "no_such_defect", "--only", "auth", cwd=tmp_path)
    assert done.returncode != 0 and "unknown defect" in done.stdout + done.stderr
