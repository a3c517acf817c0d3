"""What a job's effects left on it: the progress of its item effects, an export's file.

Plain values kept on the `Job` (typed, so storage can keep them); the records simulation
(records/simulation/) fills them. No aiohttp, no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Run:
    """How far an import's or a cleanup's item effects got (kept in `Job.run`)."""

    resource_type: str
    total: int
    applied: int = 0  # items handled so far, ok or not (the lifecycle's processed count)
    ok: int = 0  # records upserted / deleted (what processed_count shows)
    errors: int = 0
    errors_log: dict[str, Any] | None = None  # made on the first failed item (most have none)
    skip_errors: bool = False  # imports only: never interrupt on errors
    parent_id: str | None = None  # imports: parent_resource_id
    ids: list[str] | None = None  # cleanups: the records to delete, fixed at creation
    items: list[Any] | None = None  # imports: decoded inputs while running, dropped at the end

    def log(self, key: str, errors: dict[str, list[str]]) -> None:
        """Count one failed item and merge its messages under its key (ActiveModel style)."""
        self.errors += 1
        if self.errors_log is None:
            self.errors_log = {}
        entry = self.errors_log.setdefault(key, {})
        for attr, messages in errors.items():
            kept = entry.setdefault(attr, [])
            kept.extend(m for m in messages if m not in kept)


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export's gzipped file, built from the records as they were at creation."""

    data: bytes
    format: str
