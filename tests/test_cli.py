"""The `mock-server` command: serve prints its URL and stops cleanly; bad flags name the flag."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from mock_server.cli import build_parser, main


def test_serve_prints_url_answers_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--seed", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.startswith("mock-server listening on http://127.0.0.1:")
        url = first.split()[-1]
        summary = proc.stdout.readline() if proc.stdout else ""
        assert "Commerce Layer" in summary and "Rackspace" in summary
        body = urllib.request.urlopen(url + "/_mock/health", timeout=5).read()
        assert json.loads(body)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


def test_bad_flag_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--speed", "fast"])
    assert exit_info.value.code == 2
    assert "--speed" in capsys.readouterr().err


def test_bad_config_file_exits_2_with_the_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("port: nope\n")
    assert main(["serve", "--config", str(cfg)]) == 2
    assert str(cfg) in capsys.readouterr().err


def test_help_lists_every_subcommand() -> None:
    text = build_parser().format_help()
    for word in ("serve", "spec", "contract"):
        assert word in text
