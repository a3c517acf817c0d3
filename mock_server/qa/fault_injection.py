"""Vendor rate limits, then fault rules, around a vendor request (the pipeline applies them while
anything is armed)."""

from __future__ import annotations

import asyncio
import socket
import struct
from http import HTTPStatus

from aiohttp import web

from ..domain.clock import VirtualClock
from ..domain.errors import MockError, TooManyRequests
from ..headers import FAULT_HEADER
from ..middlewares import error_response
from .faults import FaultRule, FaultSet
from .journal import FAULT_NOTE, Handler, bearer_claims
from .ratelimit import RateLimiter, Verdict, retry_after_header


def _injected_error(rule: FaultRule, path: str) -> web.Response:
    status = rule.status or 500
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # e.g. 599: valid to inject, unknown to http.HTTPStatus
        phrase = "Error"
    err = MockError(rule.message or f"{phrase} (injected by the mock's fault rule {rule.id})",
                    code=phrase.upper().replace(" ", "_").replace("-", "_"), title=phrase)
    err.status = status
    retry = rule.retry_after if rule.retry_after is not None else (
        1.0 if status in (429, 503) else None)
    if retry is not None:
        err.headers["Retry-After"] = retry_after_header(retry)
    resp = error_response(err, path)
    resp.headers[FAULT_HEADER] = rule.id
    return resp


def _limited(verdict: Verdict, path: str, who: str) -> web.Response:
    err = TooManyRequests(
        f"Too many requests: {who} allows {verdict.limit} per {verdict.interval:g} s; "
        f"retry in {retry_after_header(verdict.retry_after)} s.",
        headers={**verdict.headers(), "Retry-After": retry_after_header(verdict.retry_after)},
    )
    return error_response(err, path)


def _break(request: web.Request, kind: str) -> None:
    transport = request.transport
    if transport is None:
        return
    if kind == "reset":  # SO_LINGER 0 turns close into a TCP RST
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _truncated(request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
    body = resp.body if isinstance(resp, web.Response) else None
    if resp.prepared or not isinstance(body, bytes) or not body:
        _break(request, "empty")
        raise asyncio.CancelledError
    cut = web.StreamResponse(status=resp.status, reason=resp.reason)
    for name, value in resp.headers.items():
        if name.lower() != "content-length":
            cut.headers[name] = value
    cut.content_length = len(body)  # promise everything, send half
    await cut.prepare(request)
    await cut.write(body[: len(body) // 2])
    _break(request, "truncated")
    return cut


def _endpoint(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource is not None else request.path}"


async def faulted(request: web.Request, handler: Handler, faults: FaultSet, limiter: RateLimiter,
                  clock: VirtualClock, namespace: str) -> web.StreamResponse:
    """A vendor request while a fault rule is armed or rate limits are on: rate limits, then
    fault rules, around `handler` (the pipeline calls this only then)."""
    endpoint = _endpoint(request)
    now = clock.now(namespace)  # limits count on the namespace's own time, if it keeps one
    claims = bearer_claims(request) or {}
    org = claims.get("organization")
    slug = org.get("slug") if isinstance(org, dict) else None
    mode = "test" if claims.get("test", True) else "live"
    args = (namespace, request.path, request.method, endpoint,
            slug if isinstance(slug, str) else None, mode, request.remote or "")
    if limiter.shared is None:
        verdict = limiter.check(*args, now)
    else:  # replicas: the windows are counted in the shared database
        plan = limiter.plan(*args)
        verdict = None if plan is None else await limiter.shared(plan, now)
    if verdict is not None and not verdict.allowed:
        request[FAULT_NOTE] = "rate_limit"
        return _limited(verdict, request.path, "the vendor's rate limit")
    decision = faults.decide(namespace, request.method, request.path, endpoint, now)
    if decision.notes:
        request[FAULT_NOTE] = " ".join(decision.notes)
    if decision.delay > 0:
        await asyncio.sleep(decision.delay)
    rule = decision.rule
    if rule is not None and decision.verdict is not None:
        return _limited(decision.verdict, request.path, f"fault rule {rule.id}")
    if rule is not None and rule.status is not None:
        injected = _injected_error(rule, request.path)
        if verdict is not None:
            injected.headers.update(verdict.headers())
        return injected
    early = rule is not None and rule.connection not in (None, "truncated")
    if early and rule is not None and not rule.processed:
        if rule.connection == "delay_then_close":
            await asyncio.sleep(rule.delay)
        _break(request, rule.connection or "empty")
        raise asyncio.CancelledError
    resp = await handler(request)
    if verdict is not None and not resp.prepared:
        resp.headers.update(verdict.headers())
    if rule is not None and rule.connection == "truncated":
        return await _truncated(request, resp)
    if early and rule is not None:  # processed: the work is done, the answer is lost
        if rule.connection == "delay_then_close":
            await asyncio.sleep(rule.delay)
        _break(request, rule.connection or "empty")
        raise asyncio.CancelledError
    return resp
