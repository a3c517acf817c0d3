"""The defects a DefectProxy can put between the suite and a clean server, one at a time.

Test-only: the suite must fail when an implementation is wrong, so each named defect makes the
(clean) mock wrong in exactly one way, and tests/test_contract_selftest.py checks that the rule
meant to see it does. Keeping the switches here keeps them out of the product. Defects keep
responses otherwise consistent, so only the intended rule can see them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_FIRST = {"pending": "pending", "in_progress": "pending", "queued": "start_requested"}
Forward = Callable[[str, str, dict[str, str], bytes], Awaitable["Reply"]]


@dataclass
class Reply:
    """A response on its way back: status, headers and (when JSON) the parsed body."""

    status: int
    headers: dict[str, str]
    raw: bytes
    body: Any = None

    def json_body(self) -> Any:
        """The body as JSON (None if it is not)."""
        if self.body is None and self.raw:
            try:
                self.body = json.loads(self.raw)
            except ValueError:
                self.body = None
        return self.body


@dataclass
class Defect:
    """One way to be wrong: `before` may answer instead of the server, `after` edits replies."""

    name: str
    seen: Counter[str] = field(default_factory=Counter)
    credentials: dict[str, str] = field(default_factory=dict)

    async def before(self, forward: Forward, method: str, path: str, headers: dict[str, str],
                     body: bytes) -> Reply | None:
        """Answer instead of the server (None: forward the request as it is)."""
        if self.name == "auth_not_enforced":
            for name in ("Authorization", "X-Auth-Token"):
                if headers.get(name):
                    self.credentials[name] = headers[name]  # remember a caller's valid token
            if not any(headers.get(n) for n in ("Authorization", "X-Auth-Token")):
                # the mock takes any X-Auth-Token; a bearer is learnt from /oauth/token replies
                headers.update({"X-Auth-Token": "proxy-token", **self.credentials})
        if self.name == "interrupt_ignored" and method == "PATCH" and _is_stop(body):
            if path.startswith("/v2/"):
                return Reply(204, {}, b"")
            return await forward("GET", path, headers, b"")  # the pre-PATCH body
        special = _BEFORE.get(self.name)
        return None if special is None else await special(self, forward, method, path, headers,
                                                          body)

    def after(self, method: str, path: str, reply: Reply) -> None:
        """Edit the server's reply."""
        if self.name == "auth_not_enforced" and path == "/oauth/token" and reply.status == 200:
            token = (reply.json_body() or {}).get("access_token")
            if isinstance(token, str):
                self.credentials["Authorization"] = f"Bearer {token}"
        edit = _EDITS.get(self.name)
        if edit is not None:
            edit(self, method, path, reply)


def _is_stop(body: bytes) -> bool:
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        return False
    if isinstance(doc, dict):
        data = doc.get("data")
        attrs = data.get("attributes") if isinstance(data, dict) else None
        return isinstance(attrs, dict) and attrs.get("_interrupt") is True
    return isinstance(doc, list) and any(
        isinstance(op, dict) and op.get("value") == "stop_requested" for op in doc)


def _jobs(body: Any) -> list[tuple[dict[str, Any], str]]:
    """(attributes dict, status field) of every job object in a body."""
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    out = [(i["attributes"], "status") for i in items
           if isinstance(i, dict) and isinstance(i.get("attributes"), dict)
           and "status" in i["attributes"]]
    listed = body.get("cleanups")
    for obj in listed if isinstance(listed, list) else [body]:
        if isinstance(obj, dict) and "state" in obj and "id" in obj:
            out.append((obj, "state"))
    return out


def _single_get(method: str, path: str, reply: Reply) -> list[tuple[dict[str, Any], str]]:
    body = reply.json_body()
    if method != "GET" or reply.status != 200 or not isinstance(body, dict):
        return []
    if isinstance(body.get("data"), list) or "cleanups" in body:
        return []
    return _jobs(body)


def _status_backwards(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        d.seen[path] += 1
        if attrs.get(key) in ("in_progress", "queued") and d.seen[path] % 2 == 0:
            attrs[key] = _FIRST[attrs[key]]
            for name in ("started_at", "started_time"):
                if name in attrs:
                    attrs[name] = None
            reply.raw = b""


def _terminal_changes(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        d.seen[path] += 1
        if attrs.get(key) == "completed" and d.seen[path] % 2 == 0:
            if key == "state":
                attrs[key] = "failed"
            else:
                attrs.update(status="interrupted", interrupted_at=attrs.get("completed_at"),
                             completed_at=None)
            reply.raw = b""


def _counters_over_totals(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, _ in _jobs(reply.json_body()):
        total = attrs.get("records_count", attrs.get("inputs_size"))
        if isinstance(total, int) and "processed_count" in attrs:
            attrs["processed_count"] = total + 5
            reply.raw = b""


def _wrong_media_type(d: Defect, method: str, path: str, reply: Reply) -> None:
    if path.startswith("/api/") and reply.raw:
        reply.headers["Content-Type"] = "application/json"


def _broken_pagination(d: Defect, method: str, path: str, reply: Reply) -> None:
    body = reply.json_body()
    if method != "GET" or not isinstance(body, dict) or not isinstance(body.get("links"), (dict, list)):
        return
    links = body["links"]
    if isinstance(links, dict) and "next" in links and isinstance(body.get("data"), list):
        del links["next"]  # a gap: the rest of the set is unreachable
        reply.raw = b""
    elif isinstance(links, list):
        items = body.get("cleanups") or body.get("events") or []
        for link in links:
            if link.get("rel") == "next" and items:  # a duplicate: next repeats this page
                split = urlsplit(link["href"])
                query = dict(parse_qsl(split.query))
                query["marker"] = str(items[0]["id"])
                link["href"] = urlunsplit(split._replace(query=urlencode(query)))
                reply.raw = b""


def _undeclared_status(d: Defect, method: str, path: str, reply: Reply) -> None:
    lists = path == "/api/imports" or (path.startswith("/v2/") and path.endswith("/cleanups"))
    if method == "GET" and lists and reply.status == 200:
        reply.status = 418  # body stays a valid error-free list: only the status is wrong


def _bad_error_shape(d: Defect, method: str, path: str, reply: Reply) -> None:
    if path.startswith("/api/") and reply.status >= 400:
        reply.body, reply.raw = {"error": "something went wrong"}, b""


def _unknown_status(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        if attrs.get(key) == "completed":
            attrs[key] = "done"
            reply.raw = b""


def _timestamps_mismatch(d: Defect, method: str, path: str, reply: Reply) -> None:
    for attrs, key in _single_get(method, path, reply):
        if attrs.get(key) == "in_progress" and "started_at" in attrs:
            attrs["started_at"] = None
            reply.raw = b""


def _created_not_retrievable(d: Defect, method: str, path: str, reply: Reply) -> None:
    body = reply.json_body()
    if method == "POST" and reply.status == 201 and isinstance(body, dict):
        data = body.get("data")
        job_id = data.get("id") if isinstance(data, dict) else body.get("id")
        if job_id:
            d.seen[f"{path}/{job_id}"] = 1  # the next GET of it answers 404
    elif method == "GET" and d.seen.pop(path, 0):
        reply.status, reply.body, reply.raw = 404, {"errors": [{
            "code": "RECORD_NOT_FOUND", "title": "Record not found", "detail": "not found",
            "status": "404"}]}, b""


def _unsorted_lists(d: Defect, method: str, path: str, reply: Reply) -> None:
    body = reply.json_body()
    if method == "GET" and isinstance(body, dict) and isinstance(body.get("data"), list) \
            and len(body["data"]) > 1 and d.seen.pop("sorted", 0):
        body["data"].reverse()
        reply.raw = b""


def _wrong_mode(d: Defect, method: str, path: str, reply: Reply) -> None:
    body = reply.json_body()
    data = body.get("data") if isinstance(body, dict) else None
    for obj in data if isinstance(data, list) else [data]:
        if isinstance(obj, dict) and isinstance(obj.get("meta"), dict) and "mode" in obj["meta"]:
            obj["meta"]["mode"] = "live" if obj["meta"]["mode"] == "test" else "test"
            reply.raw = b""


_EDITS: dict[str, Callable[[Defect, str, str, Reply], None]] = {
    "status_backwards": _status_backwards,
    "terminal_changes": _terminal_changes,
    "counters_over_totals": _counters_over_totals,
    "wrong_media_type": _wrong_media_type,
    "broken_pagination": _broken_pagination,
    "undeclared_status": _undeclared_status,
    "bad_error_shape": _bad_error_shape,
    "unknown_status": _unknown_status,
    "timestamps_mismatch": _timestamps_mismatch,
    "created_not_retrievable": _created_not_retrievable,
    "unsorted_lists": _unsorted_lists,
    "wrong_mode": _wrong_mode,
}


async def _deleted_still_there(d: Defect, forward: Forward, method: str, path: str,
                               headers: dict[str, str], body: bytes) -> Reply | None:
    return Reply(204, {}, b"") if method == "DELETE" else None  # never deletes


async def _terminal_accepts_changes(d: Defect, forward: Forward, method: str, path: str,
                                    headers: dict[str, str], body: bytes) -> Reply | None:
    if method != "PATCH" or not _is_stop(body):
        return None
    reply = await forward(method, path, headers, body)
    if reply.status in (409, 422):  # the server refused to stop an ended job: accept instead
        if path.startswith("/v2/"):
            return Reply(204, {}, b"")
        reply = await forward("GET", path, headers, b"")
        for attrs, _ in _jobs(reply.json_body()):
            attrs["status"] = "interrupted"
            reply.raw = b""
    return reply


async def _writes_lost(d: Defect, forward: Forward, method: str, path: str,
                       headers: dict[str, str], body: bytes) -> Reply | None:
    if method == "PATCH" and path.startswith("/api/") and not _is_stop(body):
        return await forward("GET", path, headers, b"")  # answered, never written
    return None


async def _filters_ignored(d: Defect, forward: Forward, method: str, path: str,
                           headers: dict[str, str], body: bytes) -> Reply | None:
    split = urlsplit(path)
    query = parse_qsl(split.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if not k.startswith("filter[")]
    if method != "GET" or len(kept) == len(query):
        return None
    reply = await forward(method, urlunsplit(split._replace(query=urlencode(kept))), headers, body)
    links = (reply.json_body() or {}).get("links") if isinstance(reply.json_body(), dict) else None
    if isinstance(links, dict):  # the links still name the filters: only the items are wrong
        dropped = [(k, v) for k, v in query if k.startswith("filter[")]
        for rel, href in links.items():
            if isinstance(href, str):
                parts = urlsplit(href)
                pairs = parse_qsl(parts.query, keep_blank_values=True) + dropped
                links[rel] = urlunsplit(parts._replace(query=urlencode(pairs)))
        reply.raw = b""
    return reply


async def _mark_sorted(d: Defect, forward: Forward, method: str, path: str,
                       headers: dict[str, str], body: bytes) -> Reply | None:
    if method == "GET" and any(k == "sort" for k, _ in parse_qsl(urlsplit(path).query)):
        d.seen["sorted"] = 1  # _unsorted_lists reverses this answer
    return None


async def _credentials_refused(d: Defect, forward: Forward, method: str, path: str,
                               headers: dict[str, str], body: bytes) -> Reply | None:
    if path.startswith(("/api/", "/v2/")):
        return Reply(401, {"Content-Type": "application/vnd.api+json"}, json.dumps({"errors": [{
            "code": "INVALID_TOKEN", "title": "Invalid token", "detail": "refused",
            "status": "401"}]}).encode())
    return None


async def _webhooks_unsigned(d: Defect, forward: Forward, method: str, path: str,
                             headers: dict[str, str], body: bytes) -> Reply | None:
    """Webhooks whose deliveries carry a wrong signature (the mock's own delivery control)."""
    if method != "POST" or not path.split("?")[0].endswith("/api/webhooks"):
        return None
    doc = json.loads(body)
    doc["data"]["attributes"]["metadata"] = {"mock_delivery": {"bad_signature": True}}
    return await forward(method, path, headers, json.dumps(doc).encode())


_BEFORE: dict[str, Callable[..., Awaitable[Reply | None]]] = {
    "webhooks_unsigned": _webhooks_unsigned,
    "deleted_still_there": _deleted_still_there,
    "terminal_accepts_changes": _terminal_accepts_changes,
    "writes_lost": _writes_lost,
    "filters_ignored": _filters_ignored,
    "unsorted_lists": _mark_sorted,
    "credentials_refused": _credentials_refused,
}
DEFECTS = tuple(dict.fromkeys((*_EDITS, *_BEFORE, "interrupt_ignored", "auth_not_enforced")))


