"""`mock-server contract`: run the contract suite against a URL, print a summary, write JUnit."""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from .report import Collector
from .target import API_CHOICES

PACKAGE = Path(__file__).resolve().parent
PARTS = ("auth", "lifecycle", "lists", "conformance", "stateful", "webhooks")  # test_<part>.py
# CLI flag → (pytest option of conftest.py, help); the pytest options also read CONTRACT_* vars.
FLAGS: dict[str, tuple[type, str]] = {
    "--base-url": (str, "server to check (env CONTRACT_BASE_URL); none: the mock, in-process"),
    "--token": (str, "Commerce Layer bearer token (env CONTRACT_TOKEN)"),
    "--client-id": (str, "client id for POST /oauth/token (env CONTRACT_CLIENT_ID)"),
    "--client-secret": (str, "client secret (env CONTRACT_CLIENT_SECRET)"),
    "--token-url": (str, "token endpoint (default: BASE_URL/oauth/token)"),
    "--rackspace-token": (str, "Rackspace X-Auth-Token (env CONTRACT_RACKSPACE_TOKEN)"),
    "--project-id": (str, "Rackspace project id (env CONTRACT_PROJECT_ID; default 123456)"),
    "--agent-id": (str, "Rackspace agent id for created cleanups (env CONTRACT_AGENT_ID)"),
    "--max-examples": (int, "generated cases per operation and phase (default 20)"),
    "--seed": (int, "random seed, for reproducible runs (default 1)"),
    "--poll-budget": (float, "real seconds lifecycle polling may take without the mock's "
                             "clock (default 120)"),
    "--poll-interval": (float, "real seconds between polls (default 1)"),
    "--spec": (str, "openapi.yaml to check against (default: the packaged one)"),
    "--webhook-receiver": (str, "HOST:PORT where the suite listens for the target's webhook "
                                "deliveries (env CONTRACT_WEBHOOK_RECEIVER); the webhook "
                                "checks run only with it"),
}


def build_parser() -> argparse.ArgumentParser:
    """The `mock-server contract` command line."""
    p = argparse.ArgumentParser(
        prog="mock-server contract",
        description="Check a server against openapi.yaml: Schemathesis (examples, coverage, "
                    "fuzzing, stateful links; positive and negative) plus job-lifecycle, "
                    "trigger, pagination and auth checks. Exits 1 on any failure.",
    )
    for flag, (kind, text) in FLAGS.items():
        p.add_argument(flag, type=kind, help=text)
    p.add_argument("--api", choices=API_CHOICES,
                   help="which API to check (default: what the credentials allow; all in-process)")
    p.add_argument("--clock", choices=("auto", "real"),
                   help="auto (default): move the mock's clock when the target has one; real: "
                        "never (a shared mock), poll in real time like against a real server")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    p.add_argument("--html", metavar="FILE", help="write a one-page HTML report")
    p.add_argument("--only", metavar="PARTS", type=_parts,
                   help=f"comma-separated parts to run: {','.join(PARTS)} (default: all)")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="only checks matching (pytest -k)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list passed checks too, and show pytest's full output (tracebacks)")
    p.add_argument("--defect", help=argparse.SUPPRESS)  # self-tests: see contract_tests/proxy.py
    return p


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(unknown)}; "
                                         f"choose from {', '.join(PARTS)}")
    return parts


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest command line for parsed runner arguments."""
    # Our own empty config and no cache/benchmark plugins: the caller's pytest settings must not
    # change the suite, and a CI checkout gets no .pytest_cache or .benchmarks from it.
    where = [str(PACKAGE / f"test_{p}.py") for p in args.only] if args.only else [str(PACKAGE)]
    out = [*where, "-c", os.devnull, "--rootdir", str(PACKAGE), "-p", "no:cacheprovider",
           "-p", "no:benchmark", "-o", "python_files=test_*.py", "--tb=short",
           "-q" if not args.verbose else "-v", "-W", "ignore::pytest.PytestAssertRewriteWarning",
           "-o", "console_output_style=classic"]
    for flag in (*FLAGS, "--api", "--clock", "--defect"):
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            out.append(f"{flag}={value}")
    if args.keyword:
        out += ["-k", args.keyword]
    if args.junit:
        out += [f"--junitxml={args.junit}", "-o", "junit_suite_name=contract",
                "-o", "junit_family=xunit2"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; 0 when every check passed, 1 on any failure, 2 when it could not check
    (bad usage, unreachable target, missing or refused credentials)."""
    import pytest

    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.only == ["webhooks"] and not (args.webhook_receiver
                                          or os.environ.get("CONTRACT_WEBHOOK_RECEIVER")):
        parser.exit(2, "mock-server contract: --only webhooks needs --webhook-receiver HOST:PORT "
                       "(an address of this machine the target can reach)\n")
    # Hypothesis keeps caches in ./.hypothesis; a CI checkout should not get one from us.
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "mock-server-contract-hypothesis"))
    collector = Collector()
    # pytest's own output (tracebacks, its summary) only with -v: the report below says it all.
    captured = io.StringIO()
    if args.verbose:
        code = pytest.main(pytest_args(args), plugins=[collector])
    else:
        with redirect_stdout(captured), redirect_stderr(captured):
            code = pytest.main(pytest_args(args), plugins=[collector])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED,
                pytest.ExitCode.INTERNAL_ERROR):
        if not args.verbose:
            print(usage_line(captured.getvalue()), file=sys.stderr)
        return 2
    where = args.base_url or os.environ.get("CONTRACT_BASE_URL") or "the in-process mock"
    title = f"Contract check of {where}"
    collector.write_summary(sys.stdout, title, verbose=args.verbose)
    if args.html:
        collector.write_html(args.html, title)
    if args.junit:
        print(f"JUnit report: {args.junit}")
    counts = collector.counts()
    if counts["failed"] or code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        if not counts["failed"]:
            print("FAILED: a session-level check failed (run with -v for pytest's output)")
        return 1
    if not counts["passed"]:
        print("FAILED: no check passed (nothing was verified)")
        return 1
    return 0


def usage_line(output: str) -> str:
    """The one line saying why the suite could not start (pytest's `ERROR: …`)."""
    for line in output.splitlines():
        if line.startswith("ERROR: "):
            return "mock-server contract: " + line.removeprefix("ERROR: ").removeprefix(
                "contract target: ")
    tail = [line for line in output.splitlines() if line.strip()]
    return "mock-server contract: " + (tail[-1] if tail else "the suite could not start")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
