"""Signed, expiring download links for export files and import inputs, served by the mock itself.

notes: commercelayer_api.md §2.2 — attachment_url is a pre-signed URL valid for 5 minutes;
fetching the job again gives a fresh one. The mock signs `<file id>\\n<expiry>` with an HMAC
and checks the expiry on
the virtual clock of the namespace the file belongs to. The key is the `files_key` setting, else
random per server (kept with the state, so links outlive a restart and every replica checks
them alike): nobody can sign a link the server did not hand out. Like S3's second-resolution signing
dates, a link is signed once per virtual second (`link_window`): every read within one second
gets the same link, valid until 5 minutes after the end of that second.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from ...domain.errors import Forbidden, NotFound
from ...timefmt import cl_time

PATH = "/_files/"  # mock-owned, like /_mock/ and /_ns/: no vendor has it
VALID_FOR = 300.0  # notes: commercelayer_api.md §2.2 (CORE attachment_expiration: 5 minutes)
_SEP = "\x1f"
_SUFFIX = {"json": ".json.gz", "csv": ".csv.gz"}

# The absolute base (scheme, host, /_ns/ prefix) of the request being served. Hooks render
# attachment_url without seeing the request, so the pipeline (pipeline.py) sets this per request;
# a ContextVar is per task, so concurrent requests never see each other's.
LINK_BASE: ContextVar[str | None] = ContextVar("mock_link_base", default=None)


@dataclass(frozen=True, slots=True)
class FileRef:
    """Which job's file a download link names."""

    namespace: str
    org: str
    mode: str
    kind: str
    job_id: str

    @classmethod
    def of(cls, tenant_key: tuple[str, ...], kind: str, job_id: str) -> FileRef:
        """The file of one job of a Commerce Layer tenant (namespace, "cl", org, mode)."""
        namespace, _, org, mode = tenant_key
        return cls(namespace, org, mode, kind, job_id)

    @property
    def tenant_key(self) -> tuple[str, ...]:
        """The Commerce Layer tenant that owns the job."""
        return (self.namespace, "cl", self.org, self.mode)


@dataclass(slots=True)
class Signer:
    """Builds and checks download links (one per app: `keys.SIGNER`)."""

    key: bytes
    fallback_base: str  # used when no request is being served (public_url or host:port)

    @classmethod
    def for_settings(cls, key: str | None, public_url: str | None, host: str, port: int
                     ) -> Signer:
        """A signer keyed by `key` (any text), else by a random key."""
        secret = hashlib.sha256(key.encode()).digest() if key else secrets.token_bytes(32)
        return cls(secret, (public_url or f"http://{host}:{port}").rstrip("/"))

    def _sign(self, file_id: str, expires: int) -> str:
        return _signature(self.key, file_id, expires)

    def url(self, ref: FileRef, fmt: str, now: float) -> str:
        """An absolute link to the file, valid VALID_FOR virtual seconds from its window's end."""
        file_id = _file_id(ref, fmt)
        expires = int((link_window(now) + VALID_FOR) * 1000)  # virtual epoch milliseconds
        base = LINK_BASE.get() or self.fallback_base
        return f"{base}{PATH}{file_id}?expires={expires}&signature={self._sign(file_id, expires)}"

    def check(self, file_id: str, expires: int | None, signature: str | None,
              now_of: Callable[[str], float]) -> FileRef:
        """The file a link names; 403 when unsigned, tampered with or expired, 404 if malformed."""
        ref = _decode(file_id)
        if expires is None or not signature:
            raise Forbidden("This download link is not signed: use the attachment_url the API "
                            "returned, with its expires and signature parameters.",
                            code="ACCESS_DENIED", title="Access denied")
        if not hmac.compare_digest(self._sign(file_id, expires).encode(),
                                   signature.encode("utf-8", "surrogateescape")):
            raise Forbidden("The signature of this download link does not match: use the "
                            "attachment_url exactly as the API returned it.",
                            code="SIGNATURE_DOES_NOT_MATCH", title="Signature does not match",
                            parameter="signature")
        now = now_of(ref.namespace)
        if now * 1000 > expires:
            raise Forbidden(f"This download link expired at {cl_time(expires / 1000)} "
                            f"(links are valid for {int(VALID_FOR // 60)} minutes; it is now "
                            f"{cl_time(now)}). Fetch the job again for a fresh attachment_url.",
                            code="REQUEST_EXPIRED", title="Request has expired",
                            parameter="expires")
        return ref


def link_window(now: float) -> int:
    """The virtual second a link is signed in: reads with the same window get the same link."""
    return math.ceil(now)


@lru_cache(maxsize=4096)  # every read of a started import in one link window signs the same
def _signature(key: bytes, file_id: str, expires: int) -> str:
    return hmac.digest(key, f"{file_id}\n{expires}".encode(), "sha256").hex()[:40]


@lru_cache(maxsize=4096)  # a page of 25 jobs, polled again and again, names the same files
def _file_id(ref: FileRef, fmt: str) -> str:
    raw = _SEP.join((ref.namespace, ref.org, ref.mode, ref.kind, ref.job_id)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + _SUFFIX.get(fmt, ".gz")


def _decode(file_id: str) -> FileRef:
    stem = file_id.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(stem + "=" * (-len(stem) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    parts = raw.split(_SEP)
    if len(parts) != 5 or not all(parts):
        raise NotFound(f"No file {file_id!r}: the link is not one this mock handed out.",
                       code="NOT_FOUND", title="Not found")
    return FileRef(*parts)
