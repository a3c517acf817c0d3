"""Rackspace callers: X-Auth-Token (any non-empty token), project scoping and RBAC roles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...domain.errors import Forbidden, Unauthorized

# Which header carries the caller's roles. Inferred: Rackspace Identity's auth proxy (Repose,
# keystonemiddleware) hands roles to services in X-Roles; the mock lets the client send it.
ROLES_HEADER = "X-Roles"
PROJECT_HEADER = "X-Auth-Project-Id"  # notes: rackspace_cleanups.md §8 Authentication (optional)
# notes: rackspace_cleanups.md §0 — the project of the documented examples; used by the paths
# without {project_id} when no X-Auth-Project-Id header says otherwise (inferred).
DEFAULT_PROJECT = "123456"

# notes: rackspace_cleanups.md §8 Authorization (RBAC): product roles and the global ones; when
# roles conflict the more powerful one wins, so each role maps to a rank and the highest counts.
READ, WRITE, ADMIN = 1, 2, 3
ROLE_RANKS: Mapping[str, int] = {
    "cloudbackup:observer": READ,
    "observer": READ,
    "cloudbackup:creator": WRITE,
    "cloudbackup:admin": ADMIN,
    "admin": ADMIN,
}
_RANK_NAMES = {READ: "observer", WRITE: "creator", ADMIN: "admin"}


@dataclass(frozen=True, slots=True)
class RsPrincipal:
    """Who is calling: the token, the project it claims (if any) and its strongest role rank."""

    token: str
    project_header: str | None
    rank: int
    roles: tuple[str, ...]

    def project(self, path_project: str | None) -> str:
        """The project a request works on; 403 when the token claims another one."""
        if path_project is None:
            return self.project_header or DEFAULT_PROJECT
        if self.project_header and self.project_header != path_project:
            raise Forbidden(
                f"This token belongs to project {self.project_header}, not {path_project}."
            )
        return path_project

    def require(self, rank: int, action: str) -> None:
        """403 unless the caller's roles allow `action`."""
        if self.rank >= rank:
            return
        held = ", ".join(self.roles) or "none"
        raise Forbidden(
            f"Your roles ({held}) do not allow you to {action}; "
            f"cloudbackup:{_RANK_NAMES[rank]} or higher is required."
        )


def principal(headers: Mapping[str, str]) -> RsPrincipal:
    """The caller of a /v2 request; 401 {"message": ...} without a token.

    Any non-empty token is accepted (the mock has no Identity service). Without a roles header
    the caller is an admin, so the documented requests work as written.
    """
    token = (headers.get("X-Auth-Token") or "").strip()
    if not token:
        raise Unauthorized(
            "The request lacks valid authentication credentials: send an X-Auth-Token header "
            "with a token from Rackspace Identity."
        )
    raw = headers.get(ROLES_HEADER)
    if raw is None:
        roles: tuple[str, ...] = ("cloudbackup:admin",)
    else:
        roles = tuple(r.strip() for r in raw.split(",") if r.strip())
    rank = max((ROLE_RANKS.get(r.lower(), 0) for r in roles), default=0)
    project = (headers.get(PROJECT_HEADER) or "").strip() or None
    return RsPrincipal(token=token, project_header=project, rank=rank, roles=roles)
