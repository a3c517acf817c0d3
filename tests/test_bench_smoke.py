"""The benchmark harness's measurement code works end to end on a tiny in-process workload."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import yaml

from bench.downconvert import down_convert
from bench.harness import Report
from bench.load import lua_script, parse_wrk, run_python
from bench.report import describe_machine, render
from bench.seed import record_count, seed
from bench.workloads import WORKLOADS, build, token
from mock_server import MockServer, Settings
from mock_server.spec.load import PACKAGED_SPEC


def test_harness_measures_a_tiny_run() -> None:
    tok = token()
    with MockServer(Settings(port=0, limits=False, seed=7)) as server:
        seeded = seed(server.url, tok, "smoke", 30, concurrency=4, keep=5)
        assert (seeded.created, seeded.failed) == (30, 0)
        assert record_count(server.url, tok, "smoke") == 30
        loads = build(tok, "smoke", f"/api/imports/{seeded.ids[0]}", seeded.ids,
                      running_path=f"/api/imports/{seeded.ids[1]}")
        report = Report("now", {"warmup": "0", "seconds": "0.2", "quick": "True"},
                        machine=describe_machine(None, None))
        for name in WORKLOADS:
            result = run_python(server.url, loads[name], "mock-server", 5.0, max_requests=20,
                                connections=2)
            assert result.requests >= 20 and result.errors == 0 and result.valid
            report.add(result)
    text = render(asdict(report))
    assert "| w2: GET 25 imports" in text and "req/s" in text
    assert "| w1r: GET one running export" in text


def test_wrk_script_and_summary_round_trip() -> None:
    loads = build("t", "ns", "/api/exports/x", ["a", "b"])
    script = lua_script(loads["w4"])
    assert script.count("wrk.format(") == len(loads["w4"].requests) == 20
    out = 'Running 1s test\nBENCHJSON {"requests":500,"duration_us":2000000,"errors":3,' \
          '"p50_us":1500,"p99_us":9000}\n'
    result = parse_wrk(out, "prism", "w1")
    assert (result.rps, result.p50_ms, result.p99_ms, result.errors) == (250.0, 1.5, 9.0, 3)


def test_down_converted_spec_is_openapi_30() -> None:
    doc = down_convert(yaml.safe_load(Path(PACKAGED_SPEC).read_text(encoding="utf-8")))
    assert doc["openapi"] == "3.0.3"
    text = yaml.safe_dump(doc)
    assert "const:" not in text and "- 'null'" not in text
