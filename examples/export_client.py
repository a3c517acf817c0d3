"""The code under test in these examples: a small Commerce Layer export client, as an app has one.

It knows nothing about the mock: it is given a base URL and a token, like in production
(`https://<org>.commercelayer.io` and a token from `/oauth/token`).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

JSONAPI = "application/vnd.api+json"


class ExportFailed(Exception):
    """The export ended without a file (failed or interrupted)."""


@dataclass(frozen=True)
class Export:
    """What the client cares about in an export."""

    id: str
    status: str
    records_count: int | None
    attachment_url: str | None
    errors_log: dict[str, Any]


class ExportClient:
    """Start exports, poll them, download their files."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers.update({"Accept": JSONAPI, "Content-Type": JSONAPI,
                                  "Authorization": f"Bearer {token}"})

    def _export(self, response: requests.Response) -> Export:
        response.raise_for_status()
        data = response.json()["data"]
        a = data["attributes"]
        return Export(data["id"], a["status"], a["records_count"], a["attachment_url"],
                      a["errors_log"] or {})

    def start(self, resource_type: str, format: str = "json") -> Export:
        """POST /api/exports."""
        body = {"data": {"type": "exports",
                         "attributes": {"resource_type": resource_type, "format": format}}}
        return self._export(self.http.post(f"{self.base_url}/api/exports", json=body))

    def get(self, export_id: str) -> Export:
        """GET /api/exports/{id}."""
        return self._export(self.http.get(f"{self.base_url}/api/exports/{export_id}"))

    def count(self) -> int:
        """How many exports the organization has."""
        response = self.http.get(f"{self.base_url}/api/exports", params={"page[size]": 1})
        response.raise_for_status()
        return int(response.json()["meta"]["record_count"])

    def wait(self, export_id: str, interval: float = 2.0, timeout: float = 600.0,
             sleep: Callable[[float], None] = time.sleep) -> Export:
        """Poll until the export is completed; ExportFailed if it failed or was interrupted."""
        deadline = time.monotonic() + timeout
        while True:
            export = self.get(export_id)
            if export.status == "completed":
                return export
            if export.status in ("failed", "interrupted"):
                reason = "; ".join(f"{k}: {v}" for k, v in export.errors_log.items())
                raise ExportFailed(f"export {export_id} {export.status}: {reason or 'no reason given'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"export {export_id} still {export.status}")
            sleep(interval)

    def download(self, export: Export) -> list[dict[str, Any]]:
        """The rows of a completed JSON export (the file is gzipped, as the vendor's is)."""
        if not export.attachment_url:
            raise ExportFailed(f"export {export.id} has no file")
        response = requests.get(export.attachment_url, timeout=30)  # a pre-signed URL: no token
        response.raise_for_status()
        rows = json.loads(gzip.decompress(response.content))
        return rows if isinstance(rows, list) else rows["data"]

    def export(self, resource_type: str, interval: float = 2.0) -> list[dict[str, Any]]:
        """Start, wait for and download one export."""
        started = self.start(resource_type)
        return self.download(self.wait(started.id, interval=interval))
