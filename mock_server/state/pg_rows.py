"""The PostgreSQL tables and the row work both a replica's transactions and its catch-up do:
schema, a tenant's newer rows (`rows_since`), a batch written as rows (`apply_batch`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .durable import Batch
from .sqlite import tenant_text

TABLES = """
CREATE TABLE IF NOT EXISTS mock_meta (name text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE IF NOT EXISTS mock_tenants (tenant text PRIMARY KEY, namespace text NOT NULL,
    counter bigint NOT NULL DEFAULT 0, rev bigint NOT NULL DEFAULT 0,
    seq bigserial NOT NULL);
CREATE TABLE IF NOT EXISTS mock_jobs (tenant text NOT NULL, kind text NOT NULL, id text NOT NULL,
    namespace text NOT NULL, rev bigint NOT NULL, seq bigserial NOT NULL, body bytea,
    PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS mock_jobs_rev ON mock_jobs (tenant, rev);
CREATE INDEX IF NOT EXISTS mock_jobs_namespace ON mock_jobs (namespace);
CREATE TABLE IF NOT EXISTS mock_progress (tenant text NOT NULL, kind text NOT NULL,
    id text NOT NULL, namespace text NOT NULL, rev bigint NOT NULL, body bytea NOT NULL,
    PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS mock_progress_rev ON mock_progress (tenant, rev);
CREATE INDEX IF NOT EXISTS mock_progress_namespace ON mock_progress (namespace);
CREATE TABLE IF NOT EXISTS mock_records (tenant text NOT NULL, type text NOT NULL,
    id text NOT NULL, namespace text NOT NULL, rev bigint NOT NULL, seq bigserial NOT NULL,
    body bytea, PRIMARY KEY (tenant, type, id));
CREATE INDEX IF NOT EXISTS mock_records_rev ON mock_records (tenant, rev);
CREATE INDEX IF NOT EXISTS mock_records_namespace ON mock_records (namespace);
CREATE TABLE IF NOT EXISTS mock_journal (id bigserial PRIMARY KEY, namespace text NOT NULL,
    body bytea NOT NULL, n integer NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS mock_journal_namespace ON mock_journal (namespace, id);
ALTER TABLE mock_journal ALTER COLUMN body SET STORAGE EXTERNAL; -- compressed already
CREATE SEQUENCE IF NOT EXISTS mock_job_ids;
CREATE TABLE IF NOT EXISTS mock_rate (namespace text NOT NULL, key text NOT NULL,
    at double precision NOT NULL);
CREATE INDEX IF NOT EXISTS mock_rate_key ON mock_rate (key, at);
"""


@dataclass(slots=True)
class Caught:
    """A tenant's rows newer than a copy's revision (bodies None: deleted)."""

    exists: bool
    counter: int = 0
    rev: int = 0
    jobs: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    records: list[tuple[str, str, bytes | None]] = field(default_factory=list)
    progress: list[tuple[str, str, bytes]] = field(default_factory=list)  # jobs' counts alone


@dataclass(slots=True)
class Tx:
    """An open transaction holding a tenant's lock (or the exclusive admin lock)."""

    conn: Any
    key: tuple[str, ...] | None
    ids: list[int] = field(default_factory=list)  # job id numbers reserved for it


# A tenant's row (with `ids` job id numbers taken: a sequence ignores snapshots) and its rows
# newer than a revision, in one round trip and one snapshot.
ROWS_SINCE = """
SELECT -1 AS part, NULL::text AS sort, NULL::text AS id, NULL::bytea AS body, 0::bigint AS seq,
    t.counter, t.rev, ARRAY(SELECT nextval('mock_job_ids') FROM generate_series(1, $3::int)) ids
    FROM (SELECT 1) one LEFT JOIN mock_tenants t ON t.tenant=$1
UNION ALL SELECT 0, type, id, body, seq, NULL, NULL, NULL FROM mock_records
    WHERE tenant=$1 AND rev>$2
UNION ALL SELECT 1, kind, id, body, seq, NULL, NULL, NULL FROM mock_jobs WHERE tenant=$1 AND rev>$2
UNION ALL SELECT 2, kind, id, body, 0, NULL, NULL, NULL FROM mock_progress
    WHERE tenant=$1 AND rev>$2
ORDER BY part, seq
"""


async def rows_since(conn: Any, key: tuple[str, ...], since: int, ids: int = 0
                     ) -> tuple[Caught, list[int]]:
    """A tenant's rows newer than revision `since`, and `ids` job id numbers taken."""
    rows = await conn.fetch(ROWS_SINCE, tenant_text(key), since, ids)
    head = rows[0]
    if head["rev"] is None:
        return Caught(False), list(head["ids"])
    caught = Caught(True, head["counter"], head["rev"])
    parts = (caught.records, caught.jobs, caught.progress)
    for r in rows[1:]:
        parts[r["part"]].append((r["sort"], r["id"], None if r["body"] is None else bytes(r["body"])))
    return caught, list(head["ids"])


# What a batch wrote to one tenant, in one round trip: its revision moves on, and its
# jobs, records and counts (each as arrays: kinds or types, ids, bodies) are stored at it.
ONE_TENANT = """
WITH t AS (INSERT INTO mock_tenants (tenant, namespace, counter, rev) VALUES ($1, $2, $3, 1)
        ON CONFLICT (tenant) DO UPDATE SET rev = mock_tenants.rev + 1,
        counter = greatest(mock_tenants.counter, excluded.counter) RETURNING rev),
    j AS (INSERT INTO mock_jobs (tenant, kind, id, namespace, rev, body)
        SELECT $1, u.k, u.i, $2, t.rev, u.b FROM t,
        unnest($4::text[], $5::text[], $6::bytea[]) AS u(k, i, b)
        ON CONFLICT (tenant, kind, id) DO UPDATE SET body=excluded.body, rev=excluded.rev),
    r AS (INSERT INTO mock_records (tenant, type, id, namespace, rev, body)
        SELECT $1, u.k, u.i, $2, t.rev, u.b FROM t,
        unnest($7::text[], $8::text[], $9::bytea[]) AS u(k, i, b)
        ON CONFLICT (tenant, type, id) DO UPDATE SET body=excluded.body, rev=excluded.rev),
    p AS (INSERT INTO mock_progress (tenant, kind, id, namespace, rev, body)
        SELECT $1, u.k, u.i, $2, t.rev, u.b FROM t,
        unnest($10::text[], $11::text[], $12::bytea[]) AS u(k, i, b)
        ON CONFLICT (tenant, kind, id) DO UPDATE SET body=excluded.body, rev=excluded.rev),
    g AS (DELETE FROM mock_progress WHERE tenant=$1
        AND (kind, id) IN (SELECT * FROM unnest($13::text[], $14::text[])))
SELECT rev FROM t
"""


def _columns(rows: list[tuple[Any, str, str, bytes | None]], key: tuple[str, ...]
             ) -> tuple[list[str], list[str], list[bytes | None]]:
    mine = [r for r in rows if r[0] == key]
    return [r[1] for r in mine], [r[2] for r in mine], [r[3] for r in mine]


async def apply_batch(conn: Any, batch: Batch) -> dict[tuple[str, ...], int]:
    """Write a batch in the open transaction: cleared namespaces first, then each tenant in one
    statement (`ONE_TENANT`); returns each tenant's new revision."""
    if "rate_limits" in batch.meta:  # switched on or off: the windows start empty
        await conn.execute("DELETE FROM mock_rate")
    for ns in batch.cleared:
        for table in ("mock_jobs", "mock_progress", "mock_records", "mock_tenants", "mock_rate"):
            if ns is None:
                await conn.execute(f"DELETE FROM {table}")  # noqa: S608
            else:
                await conn.execute(f"DELETE FROM {table} WHERE namespace=$1", ns)  # noqa: S608
    touched = {key for key, _ in batch.tenants} | set(batch.wiped)
    touched |= {row[0] for row in batch.jobs} | {row[0] for row in batch.records}
    touched |= {row[0] for row in batch.progress}
    counters = dict(batch.tenants)
    gone = [row for row in batch.jobs if row[3] is None]  # a deleted job's counts go with it
    revs: dict[tuple[str, ...], int] = {}
    for key in touched:
        text = tenant_text(key)
        if key in batch.wiped:  # every record goes (tombstones at the revision written next)
            await conn.execute(
                "UPDATE mock_records SET body=NULL, rev=coalesce((SELECT rev FROM mock_tenants "
                "WHERE tenant=$1), 0) + 1 WHERE tenant=$1", text)
        revs[key] = await conn.fetchval(
            ONE_TENANT, text, key[0], counters.get(key, 0), *_columns(batch.jobs, key),
            *_columns(batch.records, key), *_columns(batch.progress, key),  # type: ignore[arg-type]
            *_columns(gone, key)[:2])
    for name, value in batch.meta.items():
        await conn.execute("INSERT INTO mock_meta VALUES ($1, $2) ON CONFLICT (name) DO "
                           "UPDATE SET value=excluded.value", name, value)
    for ns in batch.journal_cleared:
        if ns is None:
            await conn.execute("DELETE FROM mock_journal")
        else:
            await conn.execute("DELETE FROM mock_journal WHERE namespace=$1", ns)
    return revs


def safe_url(url: str) -> str:
    """A URL without its password (for messages)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
