"""The ceiling: a bare aiohttp app on a plain asyncio loop returning fixed JSON bodies.

Each route answers with the bytes our mock returned for the same workload, so the wire cost
is the same and only the work behind it differs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aiohttp import web

JSONAPI = "application/vnd.api+json"


def make_app(bodies: dict[str, str]) -> web.Application:
    """`bodies` maps "METHOD /path/prefix" → body; the longest matching prefix answers."""
    table = sorted(
        ((key.split(" ", 1)[0], key.split(" ", 1)[1], body.encode()) for key, body in bodies.items()),
        key=lambda row: -len(row[1]),
    )
    fallback = table[0][2] if table else b"{}"

    async def answer(request: web.Request) -> web.Response:
        for method, prefix, body in table:
            if request.method == method and request.path.startswith(prefix):
                await request.read()
                return web.Response(body=body, status=201 if method == "POST" else 200,
                                    content_type=JSONAPI)
        return web.Response(body=fallback, content_type=JSONAPI)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def main() -> None:
    """`python -m bench.ceiling --port N --bodies FILE`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, help="JSON file: {'GET /api/x': body, ...}")
    args = parser.parse_args()
    bodies = json.loads(args.bodies.read_text()) if args.bodies else {"GET /": "{}"}
    web.run_app(make_app(bodies), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
