"""Schemathesis over every operation of openapi.yaml (admin API included), all four phases,
against a running mock: not one server error. CI runs a short form (5 examples per operation,
about 600 requests); `MOCK_SERVER_FUZZ_EXAMPLES=50` gives the full run of over 5,000 requests
(README, "Security and reliability"). Seeded: the same requests every run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from mock_server import MockServer, Settings

from ..fixtures.http import make_token

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("MOCK_SERVER_FUZZ_EXAMPLES", "5"))
RUN = "from schemathesis.cli import schemathesis; schemathesis()"


def test_no_generated_request_makes_the_mock_fail(tmp_path: Path) -> None:
    with MockServer(Settings(port=0, limits=False)) as server:
        done = subprocess.run(
            [sys.executable, "-c", RUN, "run", str(ROOT / "openapi.yaml"), "--url", server.url,
             "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing,stateful",
             "--seed", "1", "--max-examples", str(EXAMPLES), "--generation-database", "none",
             "--workers", "1", "--no-color", "--report-dir", str(tmp_path),
             "-H", f"Authorization: Bearer {make_token()}",
             "-H", "X-Auth-Token: 0f6e9f63600142f0a970911583522217"],
            capture_output=True, text=True, cwd=tmp_path, timeout=1800, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    found = re.search(r"(\d+) generated, (\d+) passed", out)
    assert found is not None, out[-2000:]
    generated, passed = map(int, found.groups())
    assert generated == passed
    assert generated >= 100 * EXAMPLES, out[-2000:]  # every operation was really exercised
    selected = re.search(r"Selected: (\d+)/(\d+)", out)
    tested = re.search(r"Tested: (\d+)", out)
    assert selected is not None and tested is not None, out[-2000:]
    assert int(tested[1]) == int(selected[2]), out[-2000:]  # all operations, none skipped
