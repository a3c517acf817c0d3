"""A pytest plugin collecting one result per check (operation or lifecycle test), and its summary."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from typing import TextIO

import pytest

_CURL = re.compile(r"(curl -X .*?)\s*$", re.MULTILINE)
# Secrets never reach a report: reproducers read them from the variables the suite itself reads.
_SECRETS = {
    "CONTRACT_TOKEN": re.compile(r"""(['"])Authorization: [^'"]*\1""", re.IGNORECASE),
    "CONTRACT_RACKSPACE_TOKEN": re.compile(r"""(['"])X-Auth-Token: [^'"]*\1""", re.IGNORECASE),
}
_MASKED = {"CONTRACT_TOKEN": '"Authorization: Bearer $CONTRACT_TOKEN"',
           "CONTRACT_RACKSPACE_TOKEN": '"X-Auth-Token: $CONTRACT_RACKSPACE_TOKEN"'}
SERVE_URL = "http://127.0.0.1:8080"
_SHOWN = 3  # problems listed per failed check without -v  # where `mock-server serve` listens by default
_ST = re.compile(r"^\s*\|?\s*- (ST\d+ .+)$", re.MULTILINE)
_E = re.compile(r"^E\s+(\S.*)$", re.MULTILINE)
_EXC = re.compile(r"^[\w.]+(Error|Violation|Exception|Exhausted|Failure): ")
_KINDS = {"test_conformance": "operation", "test_stateful": "stateful", "test_lifecycle":
          "lifecycle", "test_lists": "lists", "test_auth": "auth"}


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one test item, labelled for people."""

    label: str
    outcome: str  # passed | failed | skipped
    detail: str = ""  # first failure line, or the skip reason
    curl: str = ""
    seconds: float = 0.0
    more: tuple[tuple[str, str], ...] = ()  # further problems the same scenario found

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """(reason, reproducer) of every problem, the first one first."""
        return ((self.detail, self.curl), *self.more) if self.detail else self.more


def label_of(nodeid: str) -> str:
    """`contract_tests/test_conformance.py::test_operation[GET /api/imports]` → readable label."""
    module, _, name = nodeid.partition("::")
    module = module.rsplit("/", 1)[-1].removesuffix(".py")
    kind = _KINDS.get(module, module)
    test, _, param = name.partition("[")
    param = param.removesuffix("]")
    if kind == "operation":
        return param or test
    words = test.removeprefix("test_").replace("_", " ")
    return f"{kind}: {words}" + (f" [{param}]" if param else "")


def _failure(text: str) -> list[tuple[str, str]]:
    """(line worth reading, curl line) of each failure in pytest's report: every distinct
    Schemathesis failure (ST code, with a custom check's own reason), else the error."""
    found: list[tuple[str, str]] = []
    for st in _ST.finditer(text):
        head = st.group(1)
        after = [ln.strip(" |") for ln in text[st.end():].splitlines()]
        reason = next((ln for ln in after if ln and not ln.startswith("[")), "")
        if "Custom check failed" in head and reason:
            head += f": {reason}"  # the check's own Received / Documented line
        curl = _CURL.search(text, st.end())
        found.append((head[:300], curl.group(1) if curl else ""))
    if found:
        return found
    curl, errors = _CURL.search(text), _E.findall(text)
    if errors:
        head = _EXC.sub("", errors[0].strip())
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        head = lines[-1] if lines else "failed"
    return [(head[:300], curl.group(1) if curl else "")]


def _problem(text: str) -> tuple[str, str]:
    """A problem the suite worded itself: its first line, and its curl line if any."""
    curl = _CURL.search(text)
    head = next((ln.strip() for ln in text.splitlines() if ln.strip()), "failed")
    return head[:300], curl.group(1) if curl else ""


@dataclass(eq=False)  # pytest registers plugins in sets: keep identity hashing
class Collector:
    """pytest plugin: one Result per test item, in run order."""

    results: dict[str, Result] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    base_url: str = ""  # the target's URL as the suite reached it
    in_process: bool = False
    is_mock: bool = False
    secrets: set[str] = field(default_factory=set)  # variables the printed reproducers read

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from .target import active

        try:
            contract = active()
        except RuntimeError:  # the contract conftest did not open a session (usage error)
            return
        self.base_url, self.in_process = contract.target.base_url, contract.in_process
        self.is_mock = contract.target.is_mock

    def reproducer(self, curl: str) -> str:
        """A curl line anyone can paste: secrets from variables, the in-process mock's gone
        port replaced by where `mock-server serve` listens."""
        for var, pattern in _SECRETS.items():
            curl, n = pattern.subn(_MASKED[var], curl)
            if n:
                self.secrets.add(var)
        if self.in_process and self.base_url:
            curl = curl.replace(self.base_url, SERVE_URL)
        return curl

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            head, _ = _failure(report.longreprtext)[0]
            self.results[report.nodeid] = Result(f"collection: {report.nodeid}", "failed", head)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        label = label_of(report.nodeid)
        if report.failed:
            texts = getattr(report, "contract_problems", None)
            found = [_problem(t) for t in texts] if texts else _failure(report.longreprtext)
            kept: dict[str, str] = {}  # a reason said once, with its first reproducer
            for head, curl in found:
                kept.setdefault(head, self.reproducer(curl) if curl else "")
            problems = list(kept.items())
            (head, curl), more = problems[0], tuple(problems[1:])
            if report.when != "call":
                head = f"{report.when} error: {head}"
            self.results[report.nodeid] = Result(label, "failed", head, curl, report.duration,
                                                 more)
        elif report.skipped and report.nodeid not in self.results:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            self.results[report.nodeid] = Result(label, "skipped", str(reason).removeprefix(
                "Skipped: "), seconds=report.duration)
        elif report.when == "call" and report.passed:
            self.results[report.nodeid] = Result(label, "passed", seconds=report.duration)

    def counts(self) -> dict[str, int]:
        """passed / failed / skipped totals."""
        out = {"passed": 0, "failed": 0, "skipped": 0}
        for r in self.results.values():
            out[r.outcome] += 1
        return out

    def write_summary(self, out: TextIO, title: str, verbose: bool = False) -> None:
        """Per check: passed / failed (with the first failure and a curl line) / skipped."""
        mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}
        out.write(f"\n{title}\n\n")
        for r in self.results.values():
            if r.outcome == "passed" and not verbose:
                continue
            out.write(f"  {mark[r.outcome]}  {r.label}\n")
            shown = r.problems if verbose else r.problems[:_SHOWN]
            for detail, curl in shown:
                out.write(f"        {detail}\n")
                if curl:
                    out.write(f"          {curl}\n")
            if len(r.problems) > len(shown):
                out.write(f"        (+{len(r.problems) - len(shown)} more problems; -v lists "
                          f"them)\n")
        c = self.counts()
        if any(c for r in self.results.values() for _, c in r.problems):
            out.write("\n" + self.replay_note() + "\n")
        out.write(f"\n{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped in "
                  f"{time.monotonic() - self.started:.1f} s"
                  + ("" if verbose else " (passed checks hidden; -v lists them)") + "\n")

    def replay_note(self) -> str:
        """How to run the printed reproducers: where, and which variables to fill in."""
        lines = []
        if self.in_process:
            lines.append(f"To replay: the in-process mock is gone; start one with `mock-server "
                         f"serve` ({SERVE_URL}); the X-Mock-Namespace header keeps the run's data "
                         f"apart.")
        if "CONTRACT_TOKEN" in self.secrets:
            token_url = (SERVE_URL if self.in_process else self.base_url) + "/oauth/token"
            lines.append(f"Set CONTRACT_TOKEN to a bearer token (POST {token_url} with "
                         f"grant_type=client_credentials and your client id and secret"
                         + ("; this mock takes any client id)." if self.is_mock else ")."))
        if "CONTRACT_RACKSPACE_TOKEN" in self.secrets:
            lines.append("Set CONTRACT_RACKSPACE_TOKEN to your X-Auth-Token"
                         + (" (this mock takes any)." if self.is_mock else "."))
        return "\n".join(lines)

    def write_html(self, path: str, title: str) -> None:
        """A one-page HTML report."""
        color = {"passed": "#1a7f37", "failed": "#cf222e", "skipped": "#9a6700"}
        rows = "".join(
            f"<tr><td style='color:{color[r.outcome]}'>{r.outcome}</td><td>{html.escape(r.label)}"
            f"</td><td>{'<br>'.join(html.escape(d) for d, _ in r.problems)}</td><td><code>"
            f"{'<br>'.join(html.escape(c) for _, c in r.problems if c)}</code></td>"
            f"<td>{r.seconds:.2f}</td></tr>" for r in self.results.values())
        c = self.counts()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(
                f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>body{{font-family:sans-serif}}td{{border-top:1px solid #ddd;"
                f"padding:4px;vertical-align:top}}</style><h1>{html.escape(title)}</h1>"
                f"<p>{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped</p>"
                f"<table><tr><th>outcome</th><th>check</th><th>detail</th><th>reproduce</th>"
                f"<th>s</th></tr>{rows}</table>")
