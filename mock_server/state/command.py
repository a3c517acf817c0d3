"""`mock-server state info|reset`: look at or forget what a `serve --state` keeps."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import StateError, open_backend


def run(args: argparse.Namespace) -> int:
    """Print what is stored, or forget it; exit 2 with one line when the state cannot be used."""
    where = args.state or os.environ.get("MOCK_SERVER_STATE")
    if not where:
        print("mock-server state: say which state: --state FILE|URL (or MOCK_SERVER_STATE)",
              file=sys.stderr)
        return 2
    if not where.startswith(("postgresql://", "postgres://")) and not os.path.exists(where):
        print(f"mock-server state: {where} does not exist (serve --state {where} makes it)",
              file=sys.stderr)
        return 2
    try:
        backend = open_backend(where)
    except StateError as exc:
        print(f"mock-server state: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "reset":
            backend.reset()
            print(f"mock-server state: {where} reset: no job, record, rule, journal entry or "
                  f"clock kept")
        else:
            print(json.dumps(backend.info(), indent=2))
    finally:
        backend.close()
    return 0
