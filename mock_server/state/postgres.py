"""State in PostgreSQL (asyncpg), shared by every replica that names the same database.

The same rows as a state file (one per job, record, tenant and journal entry, plus `meta`), and
what replicas need on top:

- each tenant has a revision; a row carries the revision that wrote it (deleted rows stay as
  tombstones with a NULL body), so a replica catches up on a tenant by reading rows newer than
  its copy;
- a write to a tenant holds that tenant's advisory lock (`pg_advisory_xact_lock`) from before it
  reads until it commits, so the settle and lifecycle code runs on an up-to-date copy, one
  writer at a time, unchanged; admin changes (clock, rules, resets) hold the exclusive lock
  every tenant write shares;
- job id numbers come from one sequence (`mock_job_ids`): ids never collide;
- every commit sends `NOTIFY mock_state` saying what changed; replicas `LISTEN`, catch up and
  acknowledge, and the writer answers its client once every live replica has (the replicas
  are the listening connections `pg_stat_activity` shows);
- one replica at a time, the leader, sends webhooks: it holds a session advisory lock on its
  listening connection (so the lead passes on when it dies), and follows at once the tenants a
  notice marks as watched (they have webhooks);
- real time is the database's: each replica measures its clock's offset at connect, so a
  virtual clock running at speed 60 does not multiply the replicas' clock skew.

asyncpg runs on a loop of its own thread; `call` runs a coroutine there from synchronous code
(start-up, `mock-server state`), `run` awaits one from the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from .durable import Batch, Loaded
from .errors import StateError
from .pg_rows import Caught, Tx, apply_batch, rows_since, safe_url
from .pg_schema import clock_offset, migrate
from .sqlite import tenant_key, tenant_text

T = TypeVar("T")
CHANNEL = "mock_state"
TENANT_LOCKS = 1  # advisory lock class of tenants (hashtext of the tenant key)
RATE_LOCKS = 4  # advisory lock class of rate-limit windows
GLOBAL_LOCK = (2, 0)  # shared by tenant writes, exclusive for admin changes
LEAD_LOCK = (5, 0)  # held by the replica that sends webhooks, as long as it lives
TRIM_JOURNAL = (  # the blocks older than the newest that hold `journal_size` entries
    "DELETE FROM mock_journal WHERE namespace=$1 AND id < (SELECT min(id) FROM (SELECT id, n, "
    "sum(n) OVER (ORDER BY id DESC) AS upto FROM mock_journal WHERE namespace=$1) newest "
    "WHERE upto - n < $2)")
REPLICA = "mock-server replica "  # application_name of each replica's listening connection

def _literal(text: str) -> str:
    """`text` as an SQL string literal, whatever standard_conforming_strings says."""
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


async def _as_left(conn: Any) -> None:
    """A pool connection given back needs no reset query (a round trip on every use): it only
    ever runs transactions that end before it is given back, holds transaction-scoped locks
    only, sets nothing and listens to nothing (the listener has its own connection)."""
    return None


class PostgresState:
    """One PostgreSQL database shared by replicas."""

    kind = "postgresql"

    def __init__(self, url: str, pool_size: int = 8) -> None:
        try:
            import asyncpg
        except ImportError:
            raise StateError("--state postgresql://… needs asyncpg: pip install "
                             "'async-job-mock[postgres]'") from None
        self.url = url
        self._asyncpg = asyncpg
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mock-postgres",
                                        daemon=True)
        self._thread.start()
        self._pools: dict[asyncio.AbstractEventLoop, Any] = {}  # by the loop they serve
        self._listener: Any = None
        self.offset = 0.0  # database time minus this machine's
        self.journal_size = 1000  # entries kept per namespace (the `journal_size` setting)
        try:
            self.call(self._open(pool_size))
        except StateError:
            self.close()
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self.close()
            raise StateError(f"cannot use PostgreSQL at {safe_url(url)}: "
                             f"{exc or type(exc).__name__}") from None

    # ---- plumbing ------------------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the database loop from synchronous code."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine from the server's loop: on it, once `serve_here` gave it its own
        connections (no hop between threads per query), else on the database loop."""
        if asyncio.get_running_loop() in self._pools:
            return await coro
        return await self.run_there(coro)

    async def run_there(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on the database loop from another loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    @property
    def _pool(self) -> Any:
        """The connections of the loop running now."""
        return self._pools[asyncio.get_running_loop()]

    async def _new_pool(self, size: int) -> None:
        self._pools[asyncio.get_running_loop()] = await self._asyncpg.create_pool(
            self.url, min_size=1, max_size=size, command_timeout=60,  # connections kept:
            max_inactive_connection_lifetime=0,  # no reconnect storms
            reset=_as_left)

    async def serve_here(self, pool_size: int = 8) -> None:
        """Give the calling (server's) loop connections of its own; `leave_here` closes them."""
        await self._new_pool(pool_size)

    async def leave_here(self) -> None:
        """Close the calling loop's connections."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await asyncio.wait_for(pool.close(), 10)

    async def _open(self, pool_size: int) -> None:
        await self._new_pool(pool_size)
        async with self._pool.acquire() as conn:
            await migrate(conn, self.url)
            self.offset = await clock_offset(conn)

    def wall(self) -> float:
        """The database's time, as this machine reads it (the replicas' one real time)."""
        return time.time() + self.offset

    # ---- the Backend protocol (start-up, `mock-server state`, the journal writer) ---------

    def load(self) -> Loaded:
        """Everything stored (tombstones left out), in the order it was written."""
        return self.call(self._load())

    async def _load(self) -> Loaded:
        async with self._pool.acquire() as conn:
            meta = {r["name"]: bytes(r["value"]) for r in
                    await conn.fetch("SELECT name, value FROM mock_meta")}
            tenants = [(tenant_key(r["tenant"]), r["counter"]) for r in
                       await conn.fetch("SELECT tenant, counter FROM mock_tenants ORDER BY seq")]
            jobs = [(tenant_key(r["tenant"]), bytes(r["body"])) for r in await conn.fetch(
                "SELECT tenant, body FROM mock_jobs WHERE body IS NOT NULL ORDER BY seq")]
            records = [(tenant_key(r["tenant"]), r["type"], bytes(r["body"])) for r in
                       await conn.fetch("SELECT tenant, type, body FROM mock_records "
                                        "WHERE body IS NOT NULL ORDER BY seq")]
            progress = [(tenant_key(r["tenant"]), r["kind"], r["id"], bytes(r["body"])) for r in
                        await conn.fetch("SELECT tenant, kind, id, body FROM mock_progress")]
        return Loaded(meta, tenants, jobs, records, [], progress)

    async def revisions(self) -> dict[tuple[str, ...], int]:
        """Every tenant's revision."""
        async with self._pool.acquire() as conn:
            return {tenant_key(r["tenant"]): r["rev"] for r in
                    await conn.fetch("SELECT tenant, rev FROM mock_tenants")}

    def write(self, batch: Batch) -> None:
        """Commit what is written outside a tenant's transaction (the journal)."""
        self.call(self._write_journal(batch))

    async def _write_journal(self, batch: Batch) -> None:
        if not batch.journal:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")  # a journal, not a promise
            await conn.copy_records_to_table(
                "mock_journal", columns=("namespace", "body", "n"),
                records=[(b.namespace, b.body, b.count) for b in batch.journal])
            for ns in {b.namespace for b in batch.journal}:  # bounded as in memory
                await conn.execute(TRIM_JOURNAL, ns, self.journal_size)

    async def journal(self, namespace: str | None) -> list[tuple[int, bytes]]:
        """Journal blocks of every replica (of one namespace), oldest first."""
        async with self._pool.acquire() as conn:
            if namespace is None:
                rows = await conn.fetch("SELECT id, body FROM mock_journal ORDER BY id")
            else:
                rows = await conn.fetch("SELECT id, body FROM mock_journal WHERE namespace=$1 "
                                        "ORDER BY id", namespace)
        return [(r["id"], bytes(r["body"])) for r in rows]

    def info(self) -> dict[str, Any]:
        """What the database holds, for `mock-server state info`."""
        return self.call(self._info())

    async def _info(self) -> dict[str, Any]:
        async with self._pool.acquire() as conn:
            count = {"tenants": await conn.fetchval("SELECT count(*) FROM mock_tenants"),
                     "journal": await conn.fetchval("SELECT coalesce(sum(n), 0) FROM mock_journal")}
            count["records"] = await conn.fetchval(
                "SELECT count(*) FROM mock_records WHERE body IS NOT NULL")
            by_kind = {r["kind"]: r["n"] for r in await conn.fetch(
                "SELECT kind, count(*) n FROM mock_jobs WHERE body IS NOT NULL GROUP BY kind "
                "ORDER BY kind")}
            namespaces = [r["namespace"] for r in await conn.fetch(
                "SELECT DISTINCT namespace FROM mock_tenants ORDER BY namespace")]
            schema = await conn.fetchval("SELECT value FROM mock_meta WHERE name='schema'")
        return {"backend": "postgresql", "url": safe_url(self.url), "schema": int(schema),
                "namespaces": namespaces, "jobs": by_kind, **count}

    def reset(self) -> None:
        """Forget everything stored (the schema stays; id numbers keep counting)."""
        self.call(self._reset())

    async def _reset(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *GLOBAL_LOCK)
            await conn.execute("TRUNCATE mock_jobs, mock_progress, mock_records, mock_tenants, "
                               "mock_journal, mock_rate")
            await conn.execute("DELETE FROM mock_meta WHERE name != 'schema'")
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL,
                               json.dumps({"r": "", "c": [None]}))

    def close(self) -> None:
        """Close the connections and the database loop."""
        if self._loop.is_running():
            if self._pools or self._listener is not None:
                try:
                    self.call(self._close())
                except Exception:  # noqa: BLE001 - closing what may already be broken
                    pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    async def _close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self.leave_here()

    # ---- what replicas share ---------------------------------------------------------------

    async def listen(self, heard: Any, me: str) -> None:
        """Call `heard(payload dict)` (on the database loop) for every change notice; the
        listening connection names replica `me` (`peers` finds it while it lives)."""
        self._listener = await self._asyncpg.connect(
            self.url, server_settings={"application_name": f"{REPLICA}{me}"})

        def on_notice(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            heard(json.loads(payload))

        await self._listener.add_listener(CHANNEL, on_notice)

    async def try_lead(self) -> bool:
        """Take the lead (the webhook sender's role) if no live replica holds it: a session
        lock on the listening connection, so it ends with the replica, SIGKILL included."""
        return bool(await self._listener.fetchval("SELECT pg_try_advisory_lock($1, $2)",
                                                  *LEAD_LOCK))

    async def peers(self, me: str) -> set[str]:
        """The other replicas listening on this database now."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT application_name FROM pg_stat_activity WHERE "
                                    "datname = current_database() AND application_name LIKE $1",
                                    REPLICA + "%")
        return {r[0][len(REPLICA):] for r in rows} - {me}

    async def notify(self, notice: dict[str, Any]) -> None:
        """Send a notice to every replica. A notice is a message, not a promise: its
        transaction does not wait for the log to reach the disk (a NOTIFY takes a transaction
        id, so committing it would otherwise flush the log once per acknowledgement)."""
        async with self._pool.acquire() as conn:
            await conn.execute("BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify("
                               f"'{CHANNEL}', {_literal(json.dumps(notice))}); COMMIT")

    async def catch_up(self, key: tuple[str, ...], since: int) -> Caught:
        """A tenant's rows written after revision `since`."""
        async with self._pool.acquire() as conn:
            return (await rows_since(conn, key, since))[0]

    async def lock(self, key: tuple[str, ...] | None) -> Tx:
        """Open a transaction holding tenant `key`'s lock (None: the exclusive admin lock): one
        round trip, which waits while another replica holds the lock."""
        conn = await self._pool.acquire()
        try:
            if key is None:
                locks = "pg_advisory_xact_lock({}, {})".format(*GLOBAL_LOCK)
            else:
                locks = "pg_advisory_xact_lock_shared({}, {}), ".format(*GLOBAL_LOCK) + \
                    f"pg_advisory_xact_lock({TENANT_LOCKS}, hashtext({_literal(tenant_text(key))}))"
            await conn.execute(f"BEGIN; SELECT {locks}")
            return Tx(conn, key)
        except BaseException:
            await self._end(conn, "ROLLBACK")
            raise

    async def read(self, tx: Tx, since: int, ids: int) -> Caught:
        """In a tenant's transaction, after its lock: the tenant's rows newer than `since`, and
        `ids` job id numbers reserved (`tx.ids`). The caller rolls back if it fails."""
        assert tx.key is not None
        caught, tx.ids = await rows_since(tx.conn, tx.key, since, ids)
        return caught

    async def _end(self, conn: Any, how: str) -> None:
        try:
            await conn.execute(how)
        finally:
            await self._pool.release(conn)

    async def commit(self, tx: Tx, batch: Batch, me: str, token: str, watched: bool = False
                     ) -> tuple[dict[tuple[str, ...], int], bool]:
        """Write a batch in the open transaction, tell the replicas (a notice they acknowledge
        with `token`; `watched`: the leader follows the tenant at once), commit; returns the new
        revision of every tenant written, and whether a notice went out."""
        conn = tx.conn
        try:
            revs = await apply_batch(conn, batch)
            notice: dict[str, Any] = {"r": me, "k": token}
            if batch.cleared:
                notice["c"] = batch.cleared
            if batch.meta:
                notice["m"] = sorted(batch.meta)
            if tx.key is None:
                notice["all"] = 1
            elif tx.key in revs:
                notice["t"], notice["v"] = tenant_text(tx.key), revs[tx.key]
                if watched:
                    notice["w"] = 1
            told = len(notice) > 2
        except BaseException:
            await self._end(conn, "ROLLBACK")
            raise
        # the notice goes out with the commit (delivered only if it commits): one round trip
        notify = f"SELECT pg_notify('{CHANNEL}', {_literal(json.dumps(notice))}); " if told else ""
        await self._end(conn, notify + "COMMIT")
        return revs, told

    async def rollback(self, tx: Tx) -> None:
        """Give up an open transaction."""
        await self._end(tx.conn, "ROLLBACK")

    async def adopt(self, name: str, value: bytes) -> bytes:
        """A server-wide value: the stored one, else `value` stored now (the first replica's
        settings win, so replicas started together agree)."""
        async with self._pool.acquire() as conn:
            await conn.execute("INSERT INTO mock_meta VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               name, value)
            return bytes(await conn.fetchval("SELECT value FROM mock_meta WHERE name=$1", name))

    async def count_rate(self, plan: list[tuple[str, str, int, float]], now: float
                         ) -> tuple[bool, list[tuple[int, float | None]]]:
        """Count one request in rate-limit windows shared by every replica: `plan` holds
        (namespace, key, limit, interval) per window. Returns whether it was admitted and,
        per window, how many requests it held before and its oldest instant."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")  # counts, not promises
            for key in sorted({key for _, key, _, _ in plan}):
                await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                                   RATE_LOCKS, key)
            seen = []
            for _, key, _, interval in plan:
                await conn.execute("DELETE FROM mock_rate WHERE key=$1 AND at <= $2", key,
                                   now - interval)
                row = await conn.fetchrow("SELECT count(*) n, min(at) oldest FROM mock_rate "
                                          "WHERE key=$1", key)
                seen.append((int(row["n"]), row["oldest"]))
            admitted = all(n < limit for (n, _), (_, _, limit, _) in zip(seen, plan, strict=True))
            if admitted:
                await conn.executemany("INSERT INTO mock_rate VALUES ($1, $2, $3)",
                                       [(ns, key, now) for ns, key, _, _ in plan])
        return admitted, seen

    async def meta(self) -> dict[str, bytes]:
        """The server-wide values."""
        async with self._pool.acquire() as conn:
            return {r["name"]: bytes(r["value"]) for r in
                    await conn.fetch("SELECT name, value FROM mock_meta")}

    async def put_meta(self, name: str, value: bytes) -> None:
        """Write one server-wide value outside any lock (the leader's webhook watermark: only
        it writes the value, nobody is told)."""
        async with self._pool.acquire() as conn:
            await conn.execute("INSERT INTO mock_meta VALUES ($1, $2) ON CONFLICT (name) "
                               "DO UPDATE SET value = EXCLUDED.value", name, value)
