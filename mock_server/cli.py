"""`mock-server serve | spec | contract`: argparse and dispatch, no logic."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _serve_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the mock on the embedded defaults or a config file",
                       description="Start the mock server. Flags override the config file.")
    p.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default 8080; 0 picks a free one)")
    p.add_argument("--config", metavar="FILE", help="YAML config file (see mock-server.example.yaml)")
    p.add_argument("--fixtures", metavar="FILE", help="organization fixture YAML (default: built-in demo)")
    p.add_argument("--seed", type=int, help="seed for generated data and faults (default 1)")
    p.add_argument("--speed", type=float, help="virtual seconds per real second (default 1.0)")
    p.add_argument("--frozen", action="store_true", default=None, help="start with the clock frozen")
    p.add_argument("--start", metavar="ISO", help="instant the virtual clock starts at (default: now)")
    p.add_argument("--public-url", help="base URL for links (default: the request's host)")
    p.add_argument("--no-limits", dest="limits", action="store_false", default=None,
                   help="lift the job size and 10-at-once limits (load tests)")
    p.add_argument("--rate-limits", action="store_true", default=None,
                   help="enforce the vendor's rate limits (off by default)")


def _spec_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("spec", help="regenerate openapi.yaml from fixtures/vendor_docs",
                       description="Generate openapi.yaml from the vendor documents and the overlay.")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The full command-line interface."""
    parser = argparse.ArgumentParser(
        prog="mock-server",
        description="Spec-driven mock and contract-testing server for asynchronous job APIs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{serve,spec,contract}")
    _serve_parser(sub)
    _spec_parser(sub)
    c = sub.add_parser("contract", help="check a server (default: this mock) against openapi.yaml; "
                       "`mock-server contract --help` lists the flags",
                       description="Run the contract suite against a base URL.", add_help=False)
    c.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mock-server` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # spec and contract own their flags: hand them over untouched (argparse REMAINDER drops
    # a leading option).
    if argv and argv[0] == "spec":
        from .spec.generate import main as spec_main

        return spec_main(argv[1:])
    if argv and argv[0] == "contract":
        from contract_tests.runner import main as contract_main  # type: ignore[import-not-found]

        return int(contract_main(argv[1:]))
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .serve import run

        return run(args)
    raise AssertionError(f"unhandled command {args.command}")  # argparse allows no other


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
