"""Run the server from parsed CLI arguments: settings, banner, clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from . import hot_reads
from .app import create_app
from .keys import SPEC
from .settings import ConfigError, Settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults < --config file < MOCK_SERVER_* environment < flags."""
    base = Settings.from_file(args.config) if args.config else Settings()
    base = Settings.from_env(base)
    return base.with_overrides(
        host=args.host, port=args.port, seed=args.seed, speed=args.speed, frozen=args.frozen,
        start=args.start, public_url=args.public_url, limits=args.limits, rate_limits=args.rate_limits,
        fixtures=args.fixtures,
    )


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    hot_reads.install(runner)
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else settings.port
    url = f"http://{settings.host}:{port}"
    ops = app[SPEC].operations.values()
    cl = sum(1 for o in ops if o.path.startswith(("/api", "/oauth")))
    rs = sum(1 for o in ops if o.path.startswith("/v2"))
    print(f"mock-server listening on {url}", flush=True)
    print(f"serving {cl} Commerce Layer and {rs} Rackspace operations from openapi.yaml; "
          f"admin at {url}/_mock/; seed {settings.seed}, speed {settings.speed}x", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("mock-server: shutting down", flush=True)
    await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 2 with a clear message on bad configuration."""
    try:
        settings = settings_from_args(args)
        asyncio.run(_serve(settings))
    except ConfigError as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mock-server: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0
