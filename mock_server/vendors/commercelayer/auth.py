"""Bearer JWTs as the Commerce Layer clients use them: decode (signature unchecked) and issue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...domain.errors import Unauthorized

# notes: commercelayer_api.md §3 "Authentication": sales channels get none of the job resources
ALLOWED_KINDS = frozenset({"integration", "cli", "admin", "webapp_admin"})
_SECRET = b"mock-server: tokens are not secret, only well-formed"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def stable_id(*parts: str) -> str:
    """A Commerce-Layer-looking 10-character id derived from its parts."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: organization, environment and application, from the token."""

    org_slug: str
    org_id: str
    mode: str  # "test" | "live"
    app_kind: str
    app_id: str
    client_id: str
    namespace: str | None


def encode(payload: dict[str, Any]) -> str:
    """A compact HS512 JWT for a payload."""
    head = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(_SECRET, f"{head}.{body}".encode(), hashlib.sha512).digest()
    return f"{head}.{body}.{_b64(sig)}"


def decode(token: str) -> dict[str, Any]:
    """The payload of a well-formed JWT (the signature is not checked, as the clients do)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("The access token is not a JWT (expected header.payload.signature).")
    try:
        payload = json.loads(_unb64(parts[1]))
    except ValueError:
        raise Unauthorized("The access token's payload is not base64url-encoded JSON.") from None
    if not isinstance(payload, dict):
        raise Unauthorized("The access token's payload is not a JSON object.")
    return payload


def principal(authorization: str | None, wall_now: float) -> Principal:
    """Check a Bearer header and return the caller; 401 INVALID_TOKEN or UNAUTHORIZED otherwise.

    Expiry is checked against wall-clock time, not the virtual clock, so that advancing the
    mock's clock by hours never logs a test client out.
    """
    if not authorization:
        raise Unauthorized("Missing Authorization header: send 'Authorization: Bearer <token>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    token = token.strip()
    exp = decode_cached(token).get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp <= wall_now):
        raise Unauthorized("The access token has expired.")
    return _caller(token)


# Clients resend one token for hours: decode it once, not on every request (~6 µs each).
# Only successes are cached; a bad token raises again each time. Payloads are never mutated.
decode_cached = lru_cache(maxsize=1024)(decode)


@lru_cache(maxsize=1024)
def _caller(token: str) -> Principal:
    """The Principal a well-formed, unexpired token names."""
    payload = decode_cached(token)
    org = payload.get("organization") or {}
    app = payload.get("application") or {}
    slug = org.get("slug") if isinstance(org, dict) else None
    if not isinstance(slug, str) or not slug:
        raise Unauthorized("The access token carries no organization.slug.")
    kind = app.get("kind", "integration") if isinstance(app, dict) else "integration"
    if kind not in ALLOWED_KINDS:
        raise Unauthorized(
            f"Access denied: a {kind} application may not use this resource.",
            code="UNAUTHORIZED", title="Unauthorized",
        )
    ns = payload.get("mock_namespace")
    return Principal(
        org_slug=slug,
        org_id=str(org.get("id") or stable_id("org", slug)),
        mode="test" if payload.get("test", True) else "live",
        app_kind=kind,
        app_id=str(app.get("id") or stable_id("app", slug, kind)),
        client_id=str(app.get("client_id") or stable_id("client", slug)),
        namespace=ns if isinstance(ns, str) and ns else None,
    )


def issue(
    *,
    org_slug: str,
    client_id: str,
    kind: str = "integration",
    test: bool = True,
    scope: str = "market:all",
    wall_now: float,
    ttl: int = 14400,
    namespace: str | None = None,
) -> dict[str, Any]:
    """An /oauth/token response body carrying a JWT the official clients accept."""
    payload: dict[str, Any] = {
        "organization": {"id": stable_id("org", org_slug), "slug": org_slug},
        "application": {
            "id": stable_id("app", org_slug, kind),
            "kind": kind,
            "public": False,
            "confidential": True,
            "client_id": client_id,
        },
        "scope": scope,
        "test": test,
        "iat": int(wall_now),
        "exp": int(wall_now) + ttl,
        "iss": "https://auth.commercelayer.io",
    }
    if namespace:
        payload["mock_namespace"] = namespace
    return {
        "access_token": encode(payload),
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": scope,
        "created_at": int(wall_now),
    }
