"""Who may use the admin API and the dashboard (/_mock/): clients on this machine (loopback),
and others only with the admin token (`--admin-token`, config `admin_token`) as
`Authorization: Bearer <token>` (the dashboard's event stream, which cannot send headers, as
`?token=`). A request that came through a namespace's `/_ns/<ns>` prefix sees only that
namespace."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from ..domain.errors import Forbidden

TOKEN_PARAM = "token"


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and a Unix socket's peer (no address)."""
    if not host:
        return True  # a Unix socket: only this machine reaches it
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _presented(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get(TOKEN_PARAM)


def check(request: web.Request, token: str | None) -> None:
    """Let the caller through, or 403 saying how to get in."""
    if is_loopback(request.remote):
        return
    given = _presented(request)
    if token and given is not None and hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), token.encode()):
        return
    how = ("send Authorization: Bearer <admin token>" if token else
           "start the server with --admin-token TOKEN and send Authorization: Bearer TOKEN")
    raise Forbidden(f"The admin API answers only to this machine's clients; from elsewhere, "
                    f"{how}.", code="FORBIDDEN", title="Forbidden")


def exposed_warning(host: str, token: str | None) -> str | None:
    """What to tell the user who binds to a non-loopback interface (None: nothing to say)."""
    if is_loopback(host):
        return None
    if token:
        return ("the admin API and dashboard (/_mock/) answer other machines only with the "
                "admin token")
    return (f"serving on {host}: the vendor APIs answer any client; the admin API and dashboard "
            f"(/_mock/) answer only this machine (set --admin-token to open them to others)")
