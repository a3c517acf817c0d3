"""The `mock-server` command: serve prints its URL and stops cleanly; bad flags name the flag."""

from __future__ import annotations

import json
import re
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


def _undocumented(help_text: str) -> list[str]:
    """Options in a --help text that have no description."""
    lines = help_text.splitlines()
    missing = []
    for i, line in enumerate(lines):
        found = re.match(r"^  (-[\w-]+(?:[ ,][^ ].*?)?)(?:\s{2,}(\S.*))?$", line)
        if not found:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not found.group(2) and not re.match(r"^ {10,}\S", nxt):
            missing.append(found.group(1))
    return missing


@pytest.mark.parametrize("command", ["serve", "spec", "contract"])
def test_every_option_of_every_command_is_explained(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"mock-server {command}" in text
    assert text.count("\n  -") >= 2 and _undocumented(text) == []


def test_top_level_help_has_commands_examples_and_version(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = build_parser().format_help()
    assert "examples:" in text and "mock-server serve --config" in text
    assert _undocumented(text) == []
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("mock-server ")


@pytest.mark.parametrize("argv, flag, prog", [
    (["serve", "--nope"], "--nope", "mock-server serve"),
    (["serve", "--port", "abc"], "--port", "mock-server serve"),
    (["spec", "--nope"], "--nope", "mock-server spec"),
    (["contract", "--nope"], "--nope", "mock-server contract"),
    (["contract", "--max-examples", "x"], "--max-examples", "mock-server contract"),
    (["--nope"], "--nope", "mock-server"),
])
def test_bad_flags_are_named_by_their_command(
        argv: list[str], flag: str, prog: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and f"{prog}: error:" in err
