"""Every code block of README.md runs (or, where it cannot, is checked), so the docs cannot rot.

How a block is handled depends on its fence (GitHub reads only the first word):

- ```bash           run with `bash -euo pipefail` against a `mock-server serve` started on a free
                    port (`http://127.0.0.1:8080` replaced by its URL); a `# → text` comment says
                    what the output must contain. The first block (set-up) skips `pip install`,
                    checks that server answers, and has pytest collect (running the suite from
                    inside itself would recurse).
- ```bash synopsis  a command line with placeholders: every `--flag` must be in the command's help.
- ```bash ci        needs a CI runner or secrets: `bash -n` plus the flag check.
- ```yaml           a mock-server config: loaded and served (create_app); a GitHub Actions
                    workflow (`jobs:`): parsed, each `run:` checked as a `bash ci` block.
- ```python         run; a block defining `test_*` functions is run by pytest (the installed plugin).
- ```bash commercelayer  run like bash, with the official commercelayer CLI installed (from
                    tests/clients, see tests/fixtures/commercelayer_cli.py) and a server of its
                    own at --speed 60 (the CLI polls in real time).
- ```js             `node --check` (the SDK itself is not installed here); skipped without node.

Blocks are independent (the bash ones share one server: each uses its own token or namespace,
and the clock only moves forward; the contract block, which moves it by hours, gets its own
server), so they run concurrently, slowest first, to stay under 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from mock_server.app import create_app
from mock_server.cli import build_parser
from mock_server.settings import Settings
from mock_server.spec.generate import main as spec_main

from .fixtures.commercelayer_cli import cli_home

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOC_URL = "http://127.0.0.1:8080"
BIN = str(Path(sys.executable).parent)


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block."""

    index: int
    line: int  # 1-based line of the opening fence
    lang: str
    tags: frozenset[str]
    text: str

    @property
    def name(self) -> str:
        return f"L{self.line}-{self.lang}{'-' + '-'.join(sorted(self.tags)) if self.tags else ''}"


def readme_blocks(text: str) -> list[Block]:
    """Fenced blocks in order; an unclosed fence is an error."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})(.*)$", lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2).split()
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"README.md:{start + 1}: unclosed code fence"
        lang = info[0] if info else ""
        out.append(Block(len(out), start + 1, lang, frozenset(info[1:]), "\n".join(body) + "\n"))
        i += 1
    return out


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCK_SERVER_"))}
    env.update(extra or {})
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


@cache
def _help(command: str) -> str:
    """`mock-server <command> --help`, from the same parsers, in-process (saves 3 interpreters)."""
    if command in ("serve", "commercelayer-env"):
        sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
        return sub.choices[command].format_help()
    if command == "contract":
        from contract_tests.runner import build_parser as contract_parser

        return contract_parser().format_help()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        spec_main(["--help"])
    return out.getvalue()


def _commands(text: str) -> Iterator[str]:
    """Logical lines (continuations joined), comments dropped."""
    for line in re.sub(r"\\\n\s*", " ", text).splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


def _check_flags(text: str) -> None:
    """Every --flag given to `mock-server <command>` exists in that command's help."""
    for line in _commands(text):
        commands = r"mock-server (serve|spec|contract|commercelayer-env)\b(.*?)(?:\||&&|;|$)"
        for found in re.finditer(commands, line):
            command, args = found.group(1), found.group(2)
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", args):
                assert flag in _help(command), f"`mock-server {command}` has no {flag}"


@dataclass
class Served:
    """A `mock-server serve` subprocess on a free port."""

    proc: subprocess.Popen[str]
    url: str

    @classmethod
    def start(cls, *flags: str) -> Served:
        proc = subprocess.Popen([f"{BIN}/mock-server", "serve", "--quiet", "--port", "0", *flags],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env())
        first = proc.stdout.readline() if proc.stdout else ""
        if not first.startswith("mock-server listening on "):
            proc.kill()
            raise AssertionError(f"mock-server serve did not start: {first}{proc.stderr.read()}")
        return cls(proc, first.split()[-1])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _bash(script: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=_env(env),
                          capture_output=True, text=True, timeout=timeout)


def _expectations(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"#\s*→\s*(.+)$", text, flags=re.MULTILINE)]


def run_setup_block(block: Block, served: Served) -> str:
    """The first block: `mock-server serve` answers, and `pytest` works here (collects)."""
    lines = [re.sub(r"^pip install [^&]*&&\s*", "", ln).strip() for ln in _commands(block.text)]
    assert lines == ["mock-server serve", "pytest"], f"the set-up block changed: {lines}"
    with urllib.request.urlopen(served.url + "/_mock/health", timeout=10) as resp:
        assert resp.status == 200
    # one small module: the project's pytest config works (the whole suite runs in CI anyway)
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "tests/test_cli.py"], cwd=ROOT,
                         env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return "served; suite collected"


def run_bash(block: Block, served: Served) -> str:
    """A runnable shell block against the served mock, in an empty directory.

    A block that moves the server's clock (the contract suite moves it by hours) would end the
    jobs, or expire the 5-minute download links, of blocks running beside it: it gets a server
    of its own, and so does the commercelayer CLI's (at --speed 60: the CLI polls in real time).
    """
    cli = "commercelayer" in block.tags
    moves_clock = "mock-server contract" in block.text or "/_mock/clock" in block.text
    own = Served.start("--speed", "60") if cli else Served.start() if moves_clock else None
    url = own.url if own else served.url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = cli_home(Path(tmp, "home")) if cli else None
            Path(tmp, "work").mkdir()
            run = _bash(block.text.replace(DOC_URL, url), Path(tmp, "work"), env=env)
    finally:
        if own:
            own.stop()
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    for wanted in _expectations(block.text):
        assert wanted in run.stdout, f"expected {wanted!r} in the output:\n{run.stdout[-3000:]}"
    _check_flags(block.text)
    return run.stdout


def run_ci(text: str) -> str:
    run = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    _check_flags(text)
    return "syntax and flags checked"


def run_yaml(block: Block) -> str:
    data = yaml.safe_load(block.text)
    if isinstance(data, dict) and "jobs" in data:  # a GitHub Actions workflow
        steps = [s for job in data["jobs"].values() for s in job["steps"]]
        for step in steps:
            if "run" in step:
                run_ci(step["run"])
        return f"workflow with {len(steps)} steps checked"
    settings = Settings.from_mapping(data, f"README.md:{block.line}")
    create_app(settings)  # faults, rules, presets, agents… are parsed here
    return "config loads"


def run_python(block: Block) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        if re.search(r"^def test_", block.text, flags=re.MULTILINE):
            path = Path(tmp, "test_readme_block.py")
            path.write_text(block.text, encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
        else:
            path = Path(tmp, "readme_block.py")
            path.write_text(block.text, encoding="utf-8")
            cmd = [sys.executable, str(path)]
        run = subprocess.run(cmd, cwd=tmp, env=_env(), capture_output=True, text=True,
                             timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for wanted in _expectations(block.text):
        assert wanted in run.stdout, f"expected {wanted!r} in the output:\n{run.stdout}"
    return run.stdout


def run_js(block: Block) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the SDK example is not syntax-checked")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "readme_block.mjs")
        path.write_text(block.text, encoding="utf-8")
        run = subprocess.run([node, "--check", str(path)], capture_output=True, text=True,
                             timeout=30)
    assert run.returncode == 0, run.stderr
    return "syntax checked"


def run_block(block: Block, served: Served) -> str:
    """Run or check one block; AssertionError says what is wrong."""
    if block.lang == "bash" and block.index == 0:
        return run_setup_block(block, served)
    if block.lang == "bash" and "synopsis" in block.tags:
        _check_flags(block.text)
        return "flags checked"
    if block.lang == "bash" and "ci" in block.tags:
        return run_ci(block.text)
    if block.lang == "bash" and block.tags <= {"commercelayer"}:
        return run_bash(block, served)
    if block.lang == "yaml":
        return run_yaml(block)
    if block.lang == "python":
        return run_python(block)
    if block.lang == "js":
        return run_js(block)
    raise AssertionError(f"README.md:{block.line}: no way to run a ```{block.lang} block; "
                         "use bash, bash synopsis, bash ci, bash commercelayer, yaml, python or js")


def _cost(block: Block) -> int:
    """Rough run time, to start the slowest blocks first."""
    return 3 if "mock-server contract" in block.text and not block.tags else \
        2 if block.lang == "python" or block.index == 0 or "commercelayer" in block.tags else 1


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[int, Future[str]]]:
    """Every selected block started at once, slowest first; each test waits for its own."""
    selected = {item.callspec.params["block"].index for item in request.session.items
                if item.originalname == "test_readme_block" and hasattr(item, "callspec")}
    for command in ("serve", "spec", "contract"):
        _help(command)  # here, before threads: the spec help is captured from stdout
    served = Served.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            runnable = sorted((b for b in BLOCKS if b.lang != "js" and b.index in selected),
                              key=_cost, reverse=True)
            yield {b.index: pool.submit(run_block, b, served) for b in runnable}
    finally:
        served.stop()


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_readme_block(block: Block, outcomes: dict[int, Future[str]]) -> None:
    if block.lang == "js":
        run_js(block)
        return
    outcomes[block.index].result(timeout=300)


def test_setup_commands_come_first() -> None:
    text = README.read_text(encoding="utf-8")
    first = BLOCKS[0]
    assert text.splitlines()[0].startswith("# ") and first.line == 3, "set-up must open the README"
    assert first.text.splitlines() == [
        "pip install -e . && mock-server serve",
        "pip install -e '.[test]' && pytest",
    ]


def test_config_reference_lists_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Configuration file", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)`", section, flags=re.MULTILINE))
    example = yaml.safe_load((ROOT / "mock-server.example.yaml").read_text(encoding="utf-8"))
    settings = {f for f in Settings.__dataclass_fields__ if f not in ("extra", "config_file")}
    from mock_server.settings import EXTRA_SECTIONS

    assert settings | EXTRA_SECTIONS <= documented, "README config reference misses keys"
    assert set(example) <= documented
    Settings.from_file(ROOT / "mock-server.example.yaml")


def test_contract_reference_lists_every_flag_with_its_environment_variable() -> None:
    from contract_tests.runner import build_parser as contract_parser
    from contract_tests.target import OPTIONS

    section = README.read_text(encoding="utf-8").split("## Check your staging server", 1)[1]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `-"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            for flag in re.findall(r"`(-[-a-z]+)`", cells[0]):
                rows[flag] = set(re.findall(r"`(CONTRACT_[A-Z_]+)`", cells[1]))
    flags = {o for a in contract_parser()._actions for o in a.option_strings
             if a.help != argparse.SUPPRESS and o not in ("-h", "--help", "--verbose")}
    assert flags <= set(rows), f"README's contract table misses {sorted(flags - set(rows))}"
    for name, (variable, _type, _default) in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if flag in rows:
            assert variable in rows[flag], f"{flag}: README names no {variable}"


def test_the_contents_line_lists_every_section_and_every_link_resolves() -> None:
    text = README.read_text(encoding="utf-8")
    contents = next(line for line in text.splitlines() if line.startswith("**Contents:**"))
    sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert re.findall(r"\[([^\]]+)\]\(#", contents) == sections
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, target
    for target in re.findall(r"\]\(((?:docs|bench|mock_server)/[^)#]+)\)", text):
        assert (ROOT / target).exists(), target
