"""A state file: SQLite (stdlib) in WAL mode, one serving process per file.

The file holds one row per job, per record and per block of journal entries, plus the
server-wide values (`meta`): clock anchors, id counter, fault and scenario rules, rate-limit
windows. A committed transaction survives SIGKILL (it is in the kernel's page cache: measured,
notes §2); only a power loss could take the last ones (`synchronous=NORMAL`). A second process
on the same file is refused: the file is locked while served (flock, released by the kernel when
the process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from typing import Any

from .durable import Batch, Loaded
from .errors import StateError, migration_plan

SCHEMA = 3  # bump with a migration in MIGRATIONS when the tables change

TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (tenant TEXT PRIMARY KEY, namespace TEXT NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (tenant TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    namespace TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS jobs_namespace ON jobs (namespace);
CREATE TABLE IF NOT EXISTS records (tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
    namespace TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (tenant, type, id));
CREATE INDEX IF NOT EXISTS records_namespace ON records (namespace);
CREATE TABLE IF NOT EXISTS progress (tenant TEXT NOT NULL, kind TEXT NOT NULL,
    id TEXT NOT NULL, namespace TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (tenant, kind, id));
CREATE INDEX IF NOT EXISTS progress_namespace ON progress (namespace);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, namespace TEXT NOT NULL,
    body BLOB NOT NULL, n INTEGER NOT NULL DEFAULT 1, last INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS journal_namespace ON journal (namespace, seq);
"""
MIGRATIONS: dict[int, str] = {  # from version n to n + 1
    # 2: the journal in blocks of entries (`seq` is a block's first entry's, `last` its last)
    1: "ALTER TABLE journal ADD COLUMN n INTEGER NOT NULL DEFAULT 1; "
       "ALTER TABLE journal ADD COLUMN last INTEGER NOT NULL DEFAULT 0; UPDATE journal SET last=seq",
    # 3: a job's body in three parts (codec.encode_job; bodies of one document still read), and
    # a job's counts written apart when nothing else changed (codec.encode_progress)
    2: "CREATE TABLE progress (tenant TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, "
       "namespace TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL, "
       "PRIMARY KEY (tenant, kind, id)); CREATE INDEX progress_namespace ON progress (namespace)",
}


def tenant_text(key: tuple[str, ...]) -> str:
    """A tenant key as stored (JSON: any character may appear in a namespace)."""
    return json.dumps(list(key), ensure_ascii=False)


def tenant_key(text: str) -> tuple[str, ...]:
    """The tenant key `tenant_text` wrote."""
    return tuple(json.loads(text))


class SqliteState:
    """One state file, locked by this process while it is open."""

    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock_fd = _lock(path)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StateError(f"{path} is not a mock-server state file ({exc}); give --state "
                             f"a new file name, or delete this one") from None
        except StateError:
            self.close()
            raise
        self._guard = threading.Lock()  # the writer thread and `mock-server state` readers
        self._seq = self._db.execute(
            "SELECT max(m) FROM (SELECT max(seq) m FROM jobs UNION ALL SELECT max(seq) FROM records"
            " UNION ALL SELECT max(seq) FROM tenants)").fetchone()[0] or 0

    def _migrate(self) -> None:
        db = self._db
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            db.executescript(TABLES)
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA).encode(),))
            return
        if "meta" not in tables:
            raise StateError(f"{self.path} is an SQLite file, but not a mock-server state file; "
                             f"give --state a new file name")
        row = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
        version = int(row[0]) if row else 0
        for reached, step in migration_plan(
                version, SCHEMA, MIGRATIONS, self.path,
                "upgrade async-job-mock, or start with a new --state file", self.path):
            db.executescript(f"BEGIN; {step}; UPDATE meta SET value=CAST('{reached}' AS BLOB) "
                             f"WHERE name='schema'; COMMIT;")

    # ---- reading -------------------------------------------------------------------------

    def load(self) -> Loaded:
        """Everything stored, in the order it was written."""
        db = self._db
        meta = {name: bytes(value) for name, value in db.execute("SELECT name, value FROM meta")}
        tenants = [(tenant_key(t), c) for t, c in
                   db.execute("SELECT tenant, counter FROM tenants ORDER BY seq")]
        jobs = [(tenant_key(t), bytes(b)) for t, b in
                db.execute("SELECT tenant, body FROM jobs ORDER BY seq")]
        records = [(tenant_key(t), ty, bytes(b)) for t, ty, b in
                   db.execute("SELECT tenant, type, body FROM records ORDER BY seq")]
        journal = [bytes(b) for (b,) in db.execute("SELECT body FROM journal ORDER BY seq")]
        progress = [(tenant_key(t), k, i, bytes(b)) for t, k, i, b in
                    db.execute("SELECT tenant, kind, id, body FROM progress")]
        return Loaded(meta, tenants, jobs, records, journal, progress)

    def info(self) -> dict[str, Any]:
        """What the file holds, for `mock-server state info`."""
        db = self._db
        count = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                 for t in ("tenants", "jobs", "records")}
        count["journal"] = db.execute("SELECT coalesce(sum(n), 0) FROM journal").fetchone()[0]
        by_kind = dict(db.execute("SELECT kind, count(*) FROM jobs GROUP BY kind ORDER BY kind"))
        namespaces = [n for (n,) in db.execute(
            "SELECT DISTINCT namespace FROM tenants ORDER BY namespace")]
        schema = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
        return {"backend": "sqlite", "path": self.path, "schema": int(schema[0]),
                "size_bytes": os.path.getsize(self.path), "namespaces": namespaces,
                "jobs": by_kind, **{k: v for k, v in count.items() if k != "jobs"}}

    # ---- writing -------------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def write(self, batch: Batch) -> None:
        """One transaction with everything in the batch (the writer thread calls this)."""
        with self._guard:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                self._apply(db, batch)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _apply(self, db: sqlite3.Connection, batch: Batch) -> None:
        for ns in batch.cleared:
            for table in ("jobs", "progress", "records", "tenants"):
                if ns is None:
                    db.execute(f"DELETE FROM {table}")  # noqa: S608
                else:
                    db.execute(f"DELETE FROM {table} WHERE namespace=?", (ns,))  # noqa: S608
        for key, counter in batch.tenants:
            db.execute("INSERT INTO tenants VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE "
                       "SET counter=excluded.counter", (tenant_text(key), key[0], counter,
                                                         self._next()))
        self._rows(db, "jobs", "kind", batch.jobs)
        self._rows(db, "progress", "kind", [*batch.progress, *((key, kind, job_id, None) for
                                            key, kind, job_id, body in batch.jobs if body is None)])
        for key in batch.wiped:
            db.execute("DELETE FROM records WHERE tenant=?", (tenant_text(key),))
        self._rows(db, "records", "type", batch.records)
        for name, value in batch.meta.items():
            db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                       "SET value=excluded.value", (name, value))
        for ns in batch.journal_cleared:
            if ns is None:
                db.execute("DELETE FROM journal")
            else:
                db.execute("DELETE FROM journal WHERE namespace=?", (ns,))
        if batch.journal:
            db.executemany("INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?)",
                           [(b.first, b.namespace, b.body, b.count, b.last) for b in batch.journal])
        for ns, oldest in batch.journal_oldest.items():  # blocks whose entries all fell out
            db.execute("DELETE FROM journal WHERE namespace=? AND last<?", (ns, oldest))

    def _rows(self, db: sqlite3.Connection, table: str, kind: str,
              rows: list[tuple[tuple[str, ...], str, str, bytes | None]]) -> None:
        """Upsert (new ones at the end of the order) or delete (body None) jobs or records."""
        kept, gone = [], []
        for key, sort, row_id, body in rows:
            if body is None:
                gone.append((tenant_text(key), sort, row_id))
            else:
                kept.append((tenant_text(key), sort, row_id, key[0], self._next(), body))
        if gone:
            db.executemany(f"DELETE FROM {table} WHERE tenant=? AND {kind}=? AND id=?", gone)  # noqa: S608
        if kept:
            db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "  # noqa: S608
                           f"(tenant, {kind}, id) DO UPDATE SET body=excluded.body", kept)

    def reset(self) -> None:
        """Forget everything stored (the schema stays)."""
        with self._guard:
            self._db.executescript("BEGIN; DELETE FROM jobs; DELETE FROM progress; "
                                   "DELETE FROM records; "
                                   "DELETE FROM tenants; DELETE FROM journal; "
                                   "DELETE FROM meta WHERE name != 'schema'; COMMIT;")
            self._db.execute("VACUUM")

    def close(self) -> None:
        """Close the file and release its lock."""
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None  # type: ignore[assignment]
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


def _lock(path: str) -> int:
    """An exclusive lock on the state file for this process, or StateError naming who has it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open state file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateError(f"{path} is in use by another mock-server process: one process serves "
                         f"a state file (stop the other one, or share state between several "
                         f"with --state postgresql://…)") from None
    return fd
