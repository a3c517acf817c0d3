"""Durable state: where a served mock keeps what decides its future answers.

Memory (no `state` setting) keeps nothing; `--state FILE` keeps it in an SQLite file
(sqlite.py); `--state postgresql://…` in a PostgreSQL database that several replicas share
(postgres.py). keeper.py restores and writes an app's state through either.
"""

from __future__ import annotations

from .errors import StateError
from .keeper import Backend, Keeper

__all__ = ["Backend", "Keeper", "StateError", "open_backend", "is_database_url"]


def is_database_url(where: str) -> bool:
    """True for a PostgreSQL connection URL rather than a file name."""
    return where.startswith(("postgresql://", "postgres://"))


def open_backend(where: str) -> Backend:
    """The backend a `state` setting names (StateError says why it cannot be used)."""
    if is_database_url(where):
        from .postgres import PostgresState

        return PostgresState(where)
    from .sqlite import SqliteState

    return SqliteState(where)
