"""Per-response contract rules, pure: an Exchange in, a list of "Received … / Documented …" out."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from .exchange import Exchange
from .invariants import counter_problems, status_problems, timestamp_problems
from .model import dialect, media_type

_API_PREFIXES = ("/api/", "/oauth/", "/v2/")


def in_api(ex: Exchange) -> bool:
    """True for paths of the vendor APIs (the mock's /_mock admin API is not part of them)."""
    return ex.path.startswith(_API_PREFIXES)


def media_type_problems(ex: Exchange) -> list[str]:
    """A response with a body uses the media type the spec declares, else the API's own."""
    if not in_api(ex) or ex.status == 204 or not ex.raw or ex.method == "HEAD":
        return []
    declared = ex.declared()
    content = (declared or {}).get("content") or {}
    expected = sorted(content) if content else [media_type(ex.path)]
    if ex.content_type in expected:
        return []
    return [f"Wrong media type for {ex.method} {ex.path} → {ex.status}. Received Content-Type "
            f"`{ex.content_type or '(none)'}` / Documented {', '.join(expected)}"]


def error_shape_problems(ex: Exchange) -> list[str]:
    """Every 4xx/5xx carries the API's error body: JSON:API errors[] or Rackspace {message}."""
    if not in_api(ex) or ex.status < 400 or ex.method == "HEAD":
        return []
    where = f"{ex.method} {ex.path} → {ex.status}"
    body = ex.body
    if dialect(ex.path) == "rackspace":
        ok = isinstance(body, Mapping) and isinstance(body.get("message"), str) and body["message"]
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if ok and (errors is None or (isinstance(errors, list)
                                      and all(isinstance(e, str) for e in errors))):
            return []
        return [f"Error body of {where} is not Rackspace's shape. Received {_short(ex)} / "
                f"Documented {{\"message\": str, \"errors\"?: [str]}}"]
    items = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not items:
        return [f"Error body of {where} is not JSON:API. Received {_short(ex)} / "
                f"Documented {{\"errors\": [{{code, title, detail, status}}, ...]}}"]
    out: list[str] = []
    for i, item in enumerate(items):
        missing = [k for k in ("code", "title", "detail", "status")
                   if not isinstance(item, Mapping) or not isinstance(item.get(k), str)]
        if missing:
            out.append(f"errors[{i}] of {where} lacks string {', '.join(missing)}. Received "
                       f"{_short(ex)} / Documented code, title, detail, status as strings")
    statuses = {item.get("status") for item in items if isinstance(item, Mapping)}
    if not out and str(ex.status) not in statuses:
        out.append(f"errors[].status of {where} disagrees with HTTP. Received "
                   f"{sorted(map(str, statuses))} / Documented \"{ex.status}\"")
    return out


def job_status_problems(ex: Exchange) -> list[str]:
    """Every job's status is in the spec's enum and the lifecycle."""
    out: list[str] = []
    enums = _enums(ex)
    for job in ex.jobs():
        out += status_problems(job)
        enum = enums.get(job.kind)
        if job.status is not None and enum and job.status not in enum:
            out.append(f"{job.label}: status not in the spec. Received `{job.status}` / "
                       f"Documented {sorted(enum)}")
    return out


def job_timestamp_problems(ex: Exchange) -> list[str]:
    """Timestamps of every job match its status and are ordered."""
    return [p for job in ex.jobs() for p in timestamp_problems(job)]


def job_counter_problems(ex: Exchange) -> list[str]:
    """Counters and progress of every job are within bounds."""
    return [p for job in ex.jobs() for p in counter_problems(job)]


def trigger_problems(ex: Exchange) -> list[str]:
    """An accepted `_interrupt` answers `interrupted`; an accepted `_start` reopens the job."""
    trigger = ex.trigger()
    if trigger not in ("_interrupt", "_start") or not 200 <= ex.status < 300:
        return []
    out: list[str] = []
    for job in ex.jobs():
        lc, status = job.lifecycle, job.status
        if status is None:
            continue
        if trigger == "_interrupt" and status != lc.interrupted:
            # notes: schemathesis_and_clients.md §B5 — the CLI expects the PATCH response to say so
            out.append(f"{job.label}: `_interrupt` accepted but not applied. Received "
                       f"{lc.status_field}=`{status}` / Documented `{lc.interrupted}`")
        if trigger == "_start" and status in lc.terminal:
            out.append(f"{job.label}: `_start` accepted but the job did not resume. Received "
                       f"{lc.status_field}=`{status}` / Documented a running status")
    return out


def _enums(ex: Exchange) -> Mapping[str, frozenset[str]]:
    from .model import model_of

    return model_of(ex.spec).enums


def _short(ex: Exchange, limit: int = 160) -> str:
    text = ex.raw.decode("utf-8", "replace") if ex.raw else "(empty body)"
    return text if len(text) <= limit else text[:limit] + "…"


# --- what the credentials say about every resource -------------------------------------------

def _claims(ex: Exchange) -> Mapping[str, Any] | None:
    """The (unverified) payload of the request's bearer JWT, None when there is none."""
    head = {k.lower(): v for k, v in ex.request_headers.items()}
    token = head.get("authorization", "").removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, Mapping) else None


def credential_problems(ex: Exchange) -> list[str]:
    """Every resource says the environment and organization of the token used: `meta.mode` is
    `test` when the JWT says `test: true`, else `live`; `meta.organization_id` is the token's
    organization (notes: commercelayer_api.md §3 Authentication, "responses echo it")."""
    if not 200 <= ex.status < 300 or dialect(ex.path) != "commercelayer" \
            or not isinstance(ex.body, Mapping):
        return []
    claims = _claims(ex)
    if claims is None or not isinstance(claims.get("test"), bool):
        return []
    mode = "test" if claims["test"] else "live"
    org = claims.get("organization")
    org_id = org.get("id") if isinstance(org, Mapping) else None
    data = ex.body.get("data")
    objects = [*(data if isinstance(data, list) else [data]), *(ex.body.get("included") or [])]
    for obj in objects:
        meta = obj.get("meta") if isinstance(obj, Mapping) else None
        if not isinstance(meta, Mapping):
            continue
        if "mode" in meta and meta["mode"] != mode:
            return [f"{ex.method} {ex.path}: {obj.get('type')}/{obj.get('id')} is in the wrong "
                    f"environment. Received meta.mode={meta['mode']!r} / Documented {mode!r} for "
                    f"a token with test={claims['test']}"]
        if org_id and "organization_id" in meta and meta["organization_id"] != org_id:
            return [f"{ex.method} {ex.path}: {obj.get('type')}/{obj.get('id')} belongs to "
                    f"another organization. Received meta.organization_id="
                    f"{meta['organization_id']!r} / Documented {org_id!r} (the token's)"]
    return []
