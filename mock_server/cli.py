"""`mock-server serve | state | spec | contract | commercelayer-env`: argparse and dispatch, no logic."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .clients import commercelayer_cli

_SERVE_EPILOG = """\
settings: built-in defaults < --config FILE < MOCK_SERVER_<KEY> environment variables < flags.
Keys without a flag (journal_size, max_job_size, max_active_jobs, organization, timings, faults,
scenarios, rules, agents, rate_limit): mock-server.example.yaml, README "Configuration file".

The admin API (clock, job scenarios, faults, journal, reset) and the dashboard are under
<url>/_mock/, for this machine's clients only unless --admin-token is set; a /_ns/<namespace>
path prefix puts a client's requests in their own namespace.
"""

_EPILOG = """\
examples:
  mock-server serve                              http://127.0.0.1:8080, built-in demo data
  mock-server serve --port 0 --speed 60          any free port; a virtual minute per second
  mock-server serve --config mock.yaml           every key: mock-server.example.yaml
  mock-server serve --state mock.db              keep jobs, clock, rules across restarts
  mock-server state info --state mock.db         what a state file holds
  mock-server contract --base-url URL --client-id ID    check a server against openapi.yaml
  mock-server spec --check                       is openapi.yaml up to date?
  eval "$(mock-server commercelayer-env)"        point the official commercelayer CLI at the mock

`mock-server <command> --help` lists a command's options.
"""


def _serve_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the mock on the embedded defaults or a config file",
                       description="Start the mock server. Flags override the config file.",
                       epilog=_SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, help="port to bind (default 8080; 0 picks a free one)")
    p.add_argument("--config", metavar="FILE", help="YAML config file (see mock-server.example.yaml)")
    p.add_argument("--fixtures", metavar="FILE", help="organization fixture YAML (default: built-in demo)")
    p.add_argument("--seed", type=int, help="seed for generated data and faults (default 1)")
    p.add_argument("--speed", type=float, help="virtual seconds per real second (default 1.0)")
    p.add_argument("--frozen", action="store_true", default=None, help="start with the clock frozen")
    p.add_argument("--start", metavar="ISO", help="instant the virtual clock starts at (default: now)")
    p.add_argument("--public-url", metavar="URL", help="base URL for links (default: the request's host)")
    p.add_argument("--no-limits", dest="limits", action="store_false", default=None,
                   help="lift the job size and 10-at-once limits (load tests)")
    p.add_argument("--rate-limits", action="store_true", default=None,
                   help="enforce the vendor's rate limits (off by default)")
    p.add_argument("--state", metavar="FILE|URL",
                   help="keep state across restarts: an SQLite file (mock.db), or "
                        "postgresql://user@host/db shared by replicas (default: memory only)")
    p.add_argument("--admin-token", metavar="TOKEN",
                   help="let other machines use the admin API and dashboard with "
                        "Authorization: Bearer TOKEN (default: this machine only)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no line per request (the request log is on by default)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                   help="what the server logs (default info: a line per request)")
    p.add_argument("--log-format", choices=("text", "json"),
                   help="text (default), or json: one object per line, for CI")


def _port(text: str) -> int:
    """A TCP port number (argparse type)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535; 0 picks a free one)")
    return port


def _state_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("state", help="look at or reset kept state (--state FILE|URL)",
                       description="Look at or reset the state a `serve --state` keeps. A state "
                                   "file is locked while a server uses it.")
    p.add_argument("action", choices=("info", "reset"),
                   help="info: what is stored; reset: forget every job, record, rule, "
                        "journal entry and the clock")
    p.add_argument("--state", metavar="FILE|URL",
                   help="the state file or database URL (default: MOCK_SERVER_STATE)")


def _spec_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("spec", help="regenerate openapi.yaml from fixtures/vendor_docs",
                       description="Generate openapi.yaml from the vendor documents and the overlay.")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (the usage is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line interface."""
    parser = _Parser(
        prog="mock-server",
        description="Spec-driven mock and contract-testing server for asynchronous job APIs.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{serve,state,spec,contract,commercelayer-env}")
    _serve_parser(sub)
    _state_parser(sub)
    _spec_parser(sub)
    c = sub.add_parser("contract", help="check a server (default: this mock) against openapi.yaml; "
                       "`mock-server contract --help` lists the flags",
                       description="Run the contract suite against a base URL.", add_help=False)
    c.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    commercelayer_cli.add_parser(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("async-job-mock")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


# What the contract suite imports beyond the server's own dependencies (the `contract` extra).
CONTRACT_NEEDS = ("pytest", "schemathesis", "hypothesis", "requests")


def _missing(modules: Sequence[str]) -> list[str]:
    """The modules of `modules` that cannot be imported."""
    from importlib import import_module

    missing = []
    for name in modules:
        try:
            import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mock-server` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # spec and contract own their flags: hand them over untouched (argparse REMAINDER drops
    # a leading option).
    if argv and argv[0] == "spec":
        from .spec.generate import main as spec_main

        return spec_main(argv[1:])
    if argv and argv[0] == "contract":
        missing = _missing(CONTRACT_NEEDS)
        if missing:
            print(f"mock-server contract needs {', '.join(missing)}: pip install "
                  f"'async-job-mock[contract]' (from a checkout: pip install -e '.[contract]')",
                  file=sys.stderr)
            return 2
        from contract_tests.runner import main as contract_main  # type: ignore[import-not-found]

        return int(contract_main(argv[1:]))
    parser = build_parser()
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        parser.error(f"unrecognized arguments: {argv[0]} (options go after the command, "
                     f"e.g. mock-server serve {argv[0]})")
    args, extra = parser.parse_known_args(argv)
    if extra:  # name the flag in the subcommand's own usage, not the top-level one
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "serve":
        from .serving import run

        return run(args)
    if args.command == "state":
        from .state.command import run as state_run

        return state_run(args)
    if args.command == "commercelayer-env":
        return commercelayer_cli.run(args)
    raise AssertionError(f"unhandled command {args.command}")  # argparse allows no other


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
