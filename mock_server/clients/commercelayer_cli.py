"""`mock-server commercelayer-env`: point the official `commercelayer` CLI at a running mock.

The CLI (and the plugins it runs: exports, imports, cleanups) calls
`https://<organization>.<domain>/api/...` and has no base-URL option. It reads its
organization, domain and token from `CL_CLI_*` environment variables, and Node preloads what
`NODE_OPTIONS` names: this command fetches a token from the mock and prints the `export` lines
that set both, with `commercelayer_cli.cjs` (beside this file) as the preload that sends the
CLI's calls to the mock. Used as `eval "$(mock-server commercelayer-env)"`.
"""

from __future__ import annotations

import argparse
import base64
import json
import shlex
import sys
import urllib.error
import urllib.request
from importlib.resources import files
from typing import Any

from ..namespace_path import PREFIX

PRELOAD = files(__package__) / "commercelayer_cli.cjs"
DOMAIN = "commercelayer.io"  # the CLI's own default: calls go to the mock only through the preload


class MockUnreachable(Exception):
    """The mock did not hand out a token (not running, wrong URL, refused)."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "commercelayer-env",
        help="print the shell exports that point the official commercelayer CLI at a running mock",
        description="Fetch a token from a running mock and print the environment that sends the "
                    "official commercelayer CLI's calls to it: "
                    'eval "$(mock-server commercelayer-env)"')
    p.add_argument("--url", default="http://127.0.0.1:8080",
                   help="the running mock (default http://127.0.0.1:8080)")
    p.add_argument("--client-id", default="commercelayer-cli",
                   help="client_id for the token (default commercelayer-cli)")
    p.add_argument("--namespace", help="keep the CLI's jobs in this namespace (a /_ns/ prefix)")


def environment(url: str, client_id: str, namespace: str | None = None) -> dict[str, str]:
    """The variables that point the CLI at the mock at `url`."""
    base = url.rstrip("/")
    if namespace:
        base += PREFIX + urllib.request.quote(namespace, safe="")
    token = _token(base, client_id)
    return {
        "CL_CLI_ORGANIZATION": _claims(token)["organization"]["slug"],
        "CL_CLI_DOMAIN": DOMAIN,
        "CL_CLI_ACCESS_TOKEN": token,
        "MOCK_SERVER_CL_URL": base,
        "NODE_OPTIONS": f'--require "{PRELOAD}"',
    }


def _token(base: str, client_id: str) -> str:
    body = json.dumps({"grant_type": "client_credentials", "client_id": client_id}).encode()
    request = urllib.request.Request(base + "/oauth/token", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            token = json.load(resp)["access_token"]
    except urllib.error.HTTPError as exc:
        raise MockUnreachable(f"{base}/oauth/token answered {exc.code}: "
                              f"{exc.read()[:300].decode(errors='replace')}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise MockUnreachable(f"no token from {base}/oauth/token ({exc}); is "
                              f"`mock-server serve` running there?") from None
    return str(token)


def _claims(token: str) -> Any:
    """The JWT's payload (the CLI decodes it the same way, unverified)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def run(args: argparse.Namespace) -> int:
    """Print `export NAME=value` lines for a POSIX shell's eval."""
    try:
        env = environment(args.url, args.client_id, args.namespace)
    except MockUnreachable as exc:
        print(f"mock-server commercelayer-env: {exc}", file=sys.stderr)
        return 1
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0
