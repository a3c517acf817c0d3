"""The PostgreSQL schema's version and migrations, and the replicas' one real time.

A replica that opens the database takes the migrator's lock, creates the tables (pg_rows.TABLES)
or migrates them from an older version (or refuses a newer one, saying what to do), then
measures how far the database's clock is from this machine's.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import migration_plan
from .pg_rows import TABLES, safe_url

SCHEMA = 3
MIGRATIONS = {  # from version n to n + 1
    # 2: the journal in blocks of `n` entries (codec.Block)
    1: "ALTER TABLE mock_journal ADD COLUMN n integer NOT NULL DEFAULT 1; "
       "ALTER TABLE mock_journal ALTER COLUMN body SET STORAGE EXTERNAL",
    # 3: a job's body in three parts (codec.encode_job; bodies of one document still read), and
    # a job's counts written apart when nothing else changed (codec.encode_progress)
    2: "CREATE TABLE mock_progress (tenant text NOT NULL, kind text NOT NULL, id text NOT NULL, "
       "namespace text NOT NULL, rev bigint NOT NULL, body bytea NOT NULL, "
       "PRIMARY KEY (tenant, kind, id)); "
       "CREATE INDEX mock_progress_rev ON mock_progress (tenant, rev); "
       "CREATE INDEX mock_progress_namespace ON mock_progress (namespace)",
}
MIGRATE_LOCK = (3, 0)  # advisory lock class of the migrator: one at a time


async def migrate(conn: Any, url: str) -> None:
    """Create the tables, or bring them to SCHEMA (StateError when that cannot be done)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATE_LOCK)
        exists = await conn.fetchval("SELECT to_regclass('mock_meta') IS NOT NULL")
        if not exists:
            await conn.execute(TABLES)
            await conn.execute("INSERT INTO mock_meta VALUES ('schema', $1)", str(SCHEMA).encode())
            return
        raw = await conn.fetchval("SELECT value FROM mock_meta WHERE name='schema'")
        version = int(raw) if raw is not None else 0
        for reached, step in migration_plan(
                version, SCHEMA, MIGRATIONS, f"the database at {safe_url(url)}",
                "upgrade async-job-mock on every replica", "URL"):
            await conn.execute(step)
            await conn.execute("UPDATE mock_meta SET value=$1 WHERE name='schema'",
                               str(reached).encode())


async def clock_offset(conn: Any) -> float:
    """The database's time minus this machine's: the round trip with the least delay of five
    gives the best estimate."""
    best: tuple[float, float] | None = None
    for _ in range(5):
        t0 = time.time()
        db_now = await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())")
        t1 = time.time()
        if best is None or t1 - t0 < best[0]:
            best = (t1 - t0, float(db_now) - (t0 + t1) / 2)
    assert best is not None
    return best[1]
