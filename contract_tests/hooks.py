"""Schemathesis hooks for rules the schema cannot express (importing this module registers them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import schemathesis

if TYPE_CHECKING:
    from schemathesis import Case, HookContext


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    """Valid JSON:API updates carry the id of the URL they are sent to.

    notes: commercelayer_api.md §3 "Update body" — a body id that differs from the URL is a
    400 KEY_NOT_INCLUDED_IN_URL; a schema cannot tie a body field to a path parameter, so
    positive PATCH cases get the path's id (negative cases stay as generated).
    """
    meta = case.meta
    if case.method.upper() != "PATCH" or meta is None or not meta.generation.mode.is_positive:
        return
    data = case.body.get("data") if isinstance(case.body, dict) else None
    params = case.path_parameters or {}
    if isinstance(data, dict) and "id" in data and len(params) == 1:
        # Schemathesis keeps path parameters percent-encoded, ready for the URL.
        data["id"] = unquote(str(next(iter(params.values()))))
