"""`mock-server` with uvloop's event loop (bench only: measures whether uvloop earns its place)."""

from __future__ import annotations

import sys


def main() -> int:
    """Install uvloop's policy, then run the ordinary command line."""
    import uvloop

    uvloop.install()
    from mock_server.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
