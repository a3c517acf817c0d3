"""Auth: every secured operation refuses requests without credentials (the given credentials
themselves are checked before any test runs: target.check_credentials)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from .client import ApiClient
from .invariants import JobHistory
from .model import dialect, load_spec, media_type
from .target import NAMESPACE_HEADER, Target, active

_METHODS = ("get", "post", "put", "patch", "delete")


def _secured() -> list[Any]:
    target = active().target
    doc = load_spec(target.spec_path)
    out = []
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if not op or "admin" in op.get("tags", []) or not op.get("security", doc.get("security")):
                continue
            api = dialect(path)
            out.append(pytest.param(method.upper(), path, marks=pytest.mark.api(api),
                                    id=f"{method.upper()} {path}"))
    return out


def _probe_path(path: str, target: Target) -> str:
    path = path.replace("{project_id}", target.project_id).replace("{resourceType}", "skus")
    return re.sub(r"\{[^}]+\}", "contract-probe", path)


def _client(target: Target, spec: Mapping[str, Any], api: str, headers: dict[str, str]) -> ApiClient:
    base = {NAMESPACE_HEADER: target.namespace} if target.namespace else {}
    return ApiClient(target.base_url, {**base, **headers}, spec, JobHistory(),
                     media_type("/v2/" if api == "rackspace" else "/api/"))


@pytest.mark.parametrize(("method", "path"), _secured())
def test_auth_enforced(method: str, path: str, target: Target, spec: Mapping[str, Any]) -> None:
    """No credentials (and, for bearer tokens, a malformed one) → 401/403 in the API's shape."""
    api = dialect(path)
    body: dict[str, Any] | None = {} if method in ("POST", "PATCH", "PUT") else None
    attempts: dict[str, dict[str, str]] = {"no credentials": {}}
    if api == "commercelayer":
        attempts["a malformed token"] = {"Authorization": "Bearer not.a-valid.token"}
    for what, headers in attempts.items():
        resp = _client(target, spec, api, headers).request(method, _probe_path(path, target), body)
        assert resp.status_code in (401, 403), (
            f"Auth not enforced with {what}. Received {method} {path} → {resp.status_code} / "
            f"Documented 401")
