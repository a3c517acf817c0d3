"""The state backends measured beside memory in the same run: a state file (SQLite), one
PostgreSQL replica, and two PostgreSQL replicas driven at once. Every server-side process
(replicas, PostgreSQL) is pinned to the server core, and a cell's CPU time per request sums them
all: on a 2-core machine CPU per request, not raw throughput, says what sharing costs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import servers
from .servers import Running, ServerSpec

# The harness's Options, Report and Contender (it imports this module: no import back).
Options = Report = Contender = Any

SQLITE = "mock-server · SQLite"
PG_ONE = "mock-server · PostgreSQL"
PG_TWO = "mock-server · 2 PostgreSQL replicas"
# Two memory servers that share nothing, seeded alike (same seed, same requests: the same ids),
# driven the same way: what two processes on one core cost by themselves, without any sharing.
MEM_TWO = "mock-server · 2 memory servers"


class StateRig:
    """What the state contenders run on, stopped together."""

    def __init__(self) -> None:
        self.postgres: list[object] = []
        self.extra: list[Running] = []

    def stop(self) -> None:
        """Stop the replicas behind the proxy and the PostgreSQL servers."""
        for run in self.extra:
            servers.stop(run)
        for pg in self.postgres:
            pg.stop()  # type: ignore[attr-defined]


def _database(rig: StateRig, core: int | None) -> tuple[str, Callable[[], list[int]]]:
    """A fresh PostgreSQL server (fsync on, as a real one) and a database on it."""
    sys.path.insert(0, str(servers.ROOT))
    from tests.fixtures.postgres import Postgres  # the tests' throw-away server

    pg = Postgres(durable=True)
    rig.postgres.append(pg)
    if core is not None:  # its backends are forked later and inherit this
        for pid in pg.pids():
            os.sched_setaffinity(pid, {core})
    return pg.new_database(), pg.pids


def _pair(start: Callable[[ServerSpec], Contender], rig: StateRig) -> Contender:
    """Two independent memory servers driven at once: the co-location baseline."""
    first = start(servers.ours((), MEM_TWO))
    try:
        second = start(servers.ours((), f"{MEM_TWO} (2)"))
    except BaseException:
        servers.stop(first.run)
        raise
    rig.extra.append(second.run)
    first.urls = [first.run.url, second.run.url]
    first.pids = lambda: [first.run.proc.pid, second.run.proc.pid]
    return first


def contenders(opts: Options, report: Report, tok: str, core: int | None,
               start: Callable[[ServerSpec], Contender]) -> tuple[list[Contender], StateRig]:
    """Start and seed each state backend (`start` seeds one the way memory is seeded)."""
    rig = StateRig()
    out: list[Contender] = []
    try:
        db = Path(opts.out) / "bench-state.db"
        for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            f.unlink(missing_ok=True)
        out.append(start(servers.ours(("--state", str(db)), SQLITE)))
        url, pg_pids = _database(rig, core)
        one = start(servers.ours(("--state", url), PG_ONE))
        one.pids = lambda one=one: [one.run.proc.pid, *pg_pids()]
        out.append(one)
        out.append(_pair(start, rig))
        # What a second replica costs: two replicas driven at once (a wrk each, the
        # connections shared out, as a load balancer spreads them) against one.
        url, pg_pids = _database(rig, core)
        first = start(servers.ours(("--state", url), PG_TWO))
        second = servers.start(servers.ours(("--state", url), f"{PG_TWO} (2)"), core,
                               opts.out / "logs")
        rig.extra.append(second)
        first.urls = [first.run.url, second.url]
        first.pids = lambda: [first.run.proc.pid, second.proc.pid, *pg_pids()]
        out.append(first)
    except BaseException:
        for c in out:
            servers.stop(c.run)
        rig.stop()
        raise
    return out, rig
