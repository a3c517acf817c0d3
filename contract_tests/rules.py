"""Per-response contract rules, pure: an Exchange in, a list of "Received … / Documented …" out."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .exchange import Exchange, resolve
from .invariants import counter_problems, status_problems, timestamp_problems
from .model import dialect, media_type

_API_PREFIXES = ("/api/", "/oauth/", "/v2/")
_PAGE = ("page[number]", "page[size]")


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


def paging_problems(ex: Exchange) -> list[str]:
    """List metadata and links agree with the page served (JSON:API pages, Rackspace markers)."""
    if ex.method != "GET" or ex.status != 200 or not isinstance(ex.body, Mapping):
        return []
    if dialect(ex.path) == "rackspace":
        return _marker_problems(ex)
    return _page_problems(ex)


def _page_problems(ex: Exchange) -> list[str]:
    body = ex.body
    meta, links, data = body.get("meta"), body.get("links"), body.get("data")
    if not (isinstance(meta, Mapping) and isinstance(links, Mapping) and isinstance(data, list)):
        return []
    count, pages = meta.get("record_count"), meta.get("page_count")
    if any(n > 1 for k, n in Counter(k for k, _ in ex.query).items() if k in _PAGE):
        return []  # a repeated page parameter: which one wins is the server's choice
    query = dict(ex.query)
    try:
        number = int(query.get("page[number]", 1))
        size = int(query.get("page[size]", _default_size(ex)))
    except ValueError:
        return []
    if not isinstance(count, int) or not isinstance(pages, int) or size < 1 or number < 1:
        return []
    where = f"GET {ex.path} page {number} (size {size})"
    out: list[str] = []
    if pages != math.ceil(count / size):
        out.append(f"{where}: page_count disagrees with record_count. Received page_count={pages}"
                   f" for record_count={count} / Documented ceil(record_count / page[size]) = "
                   f"{math.ceil(count / size)}")
    expected = max(0, min(size, count - (number - 1) * size))
    if len(data) != expected:
        out.append(f"{where}: wrong number of records. Received {len(data)} / Documented "
                   f"{expected} of record_count={count}")
    want: dict[str, int | None] = {
        "first": 1, "last": max(pages, 1),
        "next": number + 1 if number < pages else None,
        "prev": number - 1 if 1 < number <= max(pages, 1) else None,
    }
    others = Counter((k, v) for k, v in ex.query if k not in _PAGE)
    for rel, target in want.items():
        href = links.get(rel)
        if target is None:
            if rel == "next" and href:
                out.append(f"{where}: `next` link on the last page. Received {href} / "
                           f"Documented no next link when page[number] ≥ page_count={pages}")
            continue
        if not isinstance(href, str):
            out.append(f"{where}: `{rel}` link missing. Received links {sorted(links)} / "
                       f"Documented `{rel}` → page {target}")
            continue
        got = parse_qsl(urlsplit(href).query, keep_blank_values=True)
        got_number = dict(got).get("page[number]")
        if got_number != str(target):
            out.append(f"{where}: `{rel}` link points at the wrong page. Received "
                       f"page[number]={got_number} / Documented {target}")
        if Counter((k, v) for k, v in got if k not in _PAGE) != others:
            out.append(f"{where}: `{rel}` link drops or changes the query. Received {href} / "
                       f"Documented the request's filters, sort and fields kept")
    return out


def _marker_problems(ex: Exchange) -> list[str]:
    body = ex.body
    key = next((k for k, v in body.items() if isinstance(v, list) and k != "links"), None)
    links = body.get("links")
    if key is None or not isinstance(links, list):
        return []
    items = [i for i in body[key] if isinstance(i, Mapping)]
    query = dict(ex.query)
    out: list[str] = []
    where = f"GET {ex.path}"
    try:
        limit = int(query["limit"]) if "limit" in query else None
    except ValueError:
        limit = None
    if limit is not None and len(items) > limit:
        out.append(f"{where}: more items than asked. Received {len(items)} / Documented ≤ "
                   f"limit={limit}")
    if not items:
        return out
    # notes: rackspace_cleanups.md §8 Pagination — next: marker=<last id>; previous:
    # marker=<first id> plus the opposite sort_dir.
    default_dir = _default_sort_dir(ex)
    sort_dir = query.get("sort_dir", default_dir)
    for link in links:
        if not isinstance(link, Mapping) or not isinstance(link.get("href"), str):
            continue
        params = dict(parse_qsl(urlsplit(link["href"]).query))
        if link.get("rel") == "next" and params.get("marker") != str(items[-1].get("id")):
            out.append(f"{where}: `next` marker is not the last item. Received "
                       f"marker={params.get('marker')} / Documented {items[-1].get('id')}")
        if link.get("rel") == "previous":
            if params.get("marker") != str(items[0].get("id")):
                out.append(f"{where}: `previous` marker is not the first item. Received "
                           f"marker={params.get('marker')} / Documented {items[0].get('id')}")
            back = params.get("sort_dir", default_dir)
            if back == sort_dir:
                out.append(f"{where}: `previous` link keeps the direction. Received "
                           f"sort_dir={back} / Documented the opposite of {sort_dir}")
    return out


def _param_default(ex: Exchange, name: str, fallback: Any) -> Any:
    op = ex.operation or {}
    path_item = ex.spec.get("paths", {}).get(ex.template or "", {})
    for param in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        param = resolve(ex.spec, param)
        if param.get("name") == name:
            return (param.get("schema") or {}).get("default", fallback)
    return fallback


def _default_size(ex: Exchange) -> int:
    return int(_param_default(ex, "page[size]", 10))  # notes: commercelayer_api.md §3 default 10


def _default_sort_dir(ex: Exchange) -> str:
    return str(_param_default(ex, "sort_dir", "desc"))


def _enums(ex: Exchange) -> Mapping[str, frozenset[str]]:
    from .model import model_of

    return model_of(ex.spec).enums


def _short(ex: Exchange, limit: int = 160) -> str:
    text = ex.raw.decode("utf-8", "replace") if ex.raw else "(empty body)"
    return text if len(text) <= limit else text[:limit] + "…"
