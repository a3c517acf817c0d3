"""The `mock-server` command: serve prints its URL and stops cleanly; bad flags name the flag."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from mock_server.cli import build_parser, main

from .fixtures.http import make_token


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


@pytest.mark.parametrize("argv", [
    ["serve", "--port", "99999"], ["serve", "--port", "-1"], ["serve", "--nope"],
    ["serve", "--speed", "fast"], ["serve", "--log-format", "xml"], ["--nope"],
])
def test_a_bad_flag_or_value_is_one_line_and_exit_2(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def _serve(*flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "mock_server", "serve", "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert "listening on" in first, first + (proc.stderr.read() if proc.stderr else "")
    return proc, first.split()[-1]


def test_a_port_in_use_says_so_and_suggests_port_0() -> None:
    proc, url = _serve("--quiet")
    try:
        port = url.rsplit(":", 1)[1]
        done = subprocess.run([sys.executable, "-m", "mock_server", "serve", "--port", port],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert "in use" in line and "--port 0" in line
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_config_typo_gets_a_suggestion_and_the_known_keys(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_activ_jobs: 3\n")
    assert main(["serve", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'max_active_jobs'?" in err and "journal_size" in err


def _lines_after_banner(proc: subprocess.Popen[str], url: str, n: int) -> list[str]:
    """Skip the banner, list imports (with a scenario header) and read a missing one; the next
    `n` lines of output."""
    assert proc.stdout is not None
    banner = [proc.stdout.readline() for _ in range(2)]
    assert "organization acme" in banner[1] and "state memory" in banner[1], banner
    auth = {"Authorization": f"Bearer {make_token()}", "Accept": "application/vnd.api+json"}
    urllib.request.urlopen(urllib.request.Request(
        url + "/api/imports", headers={**auth, "X-Mock-Scenario": "stall"}), timeout=10)
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(urllib.request.Request(url + "/api/imports/nope", headers=auth),
                               timeout=10)
    assert missing.value.code == 404
    return [proc.stdout.readline().strip() for _ in range(n)]


def test_serve_logs_a_line_per_request() -> None:
    proc, url = _serve()
    try:
        listed, missing = _lines_after_banner(proc, url, 2)
        assert re.search(r"GET /api/imports 200 [\d.]+ ms default listImports scenario=stall$",
                         listed), listed
        assert re.search(r"GET /api/imports/nope 404 [\d.]+ ms default getImport$", missing)
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_logs_json_lines_for_ci() -> None:
    proc, url = _serve("--log-format", "json")
    try:
        listed, missing = map(json.loads, _lines_after_banner(proc, url, 2))
        assert listed["status"] == 200 and listed["operation"] == "listImports"
        assert listed["scenario"] == "stall" and listed["namespace"] == "default"
        assert missing["status"] == 404 and missing["path"] == "/api/imports/nope"
    finally:
        proc.terminate()
        proc.wait(30)


def test_quiet_serves_without_request_lines() -> None:
    proc, url = _serve("--quiet")
    try:
        _lines_after_banner(proc, url, 0)
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "mock-server: shutting down"
    finally:
        proc.kill()
