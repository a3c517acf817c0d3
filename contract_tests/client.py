"""ApiClient: plain HTTP for the explicit tests, every response held to the same contract rules."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import requests

from . import rules
from .checks import terminal_change_problems, track
from .exchange import Exchange
from .followups import deleted_problems, retrievable_problems
from .invariants import JobHistory
from .model import JSON, JSONAPI

Rule = Callable[[Exchange], list[str]]
RULES: tuple[Rule, ...] = (
    rules.media_type_problems, rules.error_shape_problems, rules.job_status_problems,
    rules.job_timestamp_problems, rules.job_counter_problems, rules.trigger_problems,
    rules.paging_problems, retrievable_problems, deleted_problems,
)
_SECRET_HEADERS = ("authorization", "x-auth-token")


class ContractViolation(AssertionError):
    """A response broke the contract; the message ends with a curl line to reproduce it."""


def curl(resp: requests.Response) -> str:
    """A curl command reproducing the request of a response (credentials masked)."""
    req = resp.request
    parts = ["curl", "-X", str(req.method)]
    for name, value in req.headers.items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length"):
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        shown = "[Filtered]" if name.lower() in _SECRET_HEADERS else text
        parts += ["-H", f"{name}: {shown}"]
    if req.body:
        body = req.body.decode() if isinstance(req.body, bytes) else str(req.body)
        parts += ["-d", body]
    parts.append(str(req.url))
    return " ".join(shlex.quote(p) for p in parts)


class ApiClient:
    """A requests session for one API of the target; raises ContractViolation on a bad response."""

    def __init__(self, base_url: str, headers: Mapping[str, str], spec: Mapping[str, Any],
                 history: JobHistory, media: str = JSONAPI) -> None:
        self.base_url = base_url
        self.spec = spec
        self.history = history
        self.media = media
        self.http = requests.Session()
        self.http.headers.update({"Accept": media, **headers})

    def request(self, method: str, path: str, body: Any = None, *, media: str | None = None,
                headers: Mapping[str, str] | None = None, **kwargs: Any) -> requests.Response:
        """Send one request (path or absolute URL) and check its response against every rule."""
        url = path if path.startswith("http") else self.base_url + path
        extra = dict(headers or {})
        if body is not None:
            kwargs["data"] = json.dumps(body)
            extra.setdefault("Content-Type", media or self.media)
        resp = self.http.request(method, url, headers=extra, timeout=30, **kwargs)
        ex = Exchange.from_requests(resp, self.spec)
        problems = terminal_change_problems(self.history, ex)
        problems += track(self.history, ex)
        for rule in RULES:
            problems += rule(ex)
        if problems:
            raise ContractViolation("\n".join(problems) + f"\n\nReproduce with:\n    {curl(resp)}")
        return resp

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET a path."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        """POST a JSON body."""
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        """PATCH a JSON body."""
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        """DELETE a path."""
        return self.request("DELETE", path, **kwargs)


def expect(resp: requests.Response, *statuses: int) -> requests.Response:
    """Assert the status is one of `statuses`, showing the body and a curl line otherwise."""
    if resp.status_code not in statuses:
        raise AssertionError(
            f"Received {resp.request.method} {resp.request.path_url} → {resp.status_code} / "
            f"Documented {', '.join(map(str, statuses))}\n{resp.text[:500]}\n\n"
            f"Reproduce with:\n    {curl(resp)}")
    return resp


__all__ = ["JSON", "JSONAPI", "ApiClient", "ContractViolation", "curl", "expect"]
