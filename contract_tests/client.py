"""ApiClient: plain HTTP for the explicit tests, every response held to the same contract rules."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

import requests

from .checks import PER_RESPONSE, terminal_change_problems, track
from .exchange import Exchange
from .invariants import JobHistory
from .model import JSON, JSONAPI

RULES = tuple(rule for rule, _ in PER_RESPONSE.values())

# Secrets never reach a report: reproducers read them from the variables the suite itself reads.
_SECRET_HEADERS = {"authorization": "Authorization: Bearer $CONTRACT_TOKEN",
                   "x-auth-token": "X-Auth-Token: $CONTRACT_RACKSPACE_TOKEN"}


class ContractViolation(AssertionError):
    """A response broke the contract; the message ends with a curl line to reproduce it."""


class Findings(list[str]):
    """The contract problems one test found, kept so that its scenario runs on to every later
    check (against a stateless server each check still gets its say); the test fails at its end
    when any were found."""


def curl(resp: requests.Response) -> str:
    """A curl command reproducing the request of a response; credentials come from variables."""
    req = resp.request
    parts = ["curl", "-X", shlex.quote(str(req.method))]
    for name, value in req.headers.items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "content-length"):
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        secret = _SECRET_HEADERS.get(name.lower())
        parts += ["-H", f'"{secret}"' if secret else shlex.quote(f"{name}: {text}")]
    if req.body:
        body = req.body.decode() if isinstance(req.body, bytes) else str(req.body)
        parts += ["-d", shlex.quote(body)]
    parts.append(shlex.quote(str(req.url)))
    return " ".join(parts)


class ApiClient:
    """A requests session for one API of the target; raises ContractViolation on a bad response."""

    def __init__(self, base_url: str, headers: Mapping[str, str], spec: Mapping[str, Any],
                 history: JobHistory, media: str = JSONAPI, findings: Findings | None = None
                 ) -> None:
        self.base_url = base_url
        self.spec = spec
        self.history = history
        self.media = media
        self.findings = findings  # None: the first problem raises ContractViolation
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
        if problems and self.findings is None:
            raise ContractViolation("\n".join(problems) + f"\n\nReproduce with:\n    {curl(resp)}")
        for problem in problems:  # each its own finding, so the report lists every one
            self.problem(f"{problem}\n\nReproduce with:\n    {curl(resp)}")
        return resp

    def problem(self, text: str) -> None:
        """A contract problem: noted in the test's findings, or raised when there are none."""
        if self.findings is None:
            raise ContractViolation(text)
        self.findings.append(text)

    def check(self, ok: bool, problem: str) -> bool:
        """Note `problem` unless `ok`; returns `ok`."""
        if not ok:
            self.problem(problem)
        return ok

    def expect(self, resp: requests.Response, *statuses: int) -> bool:
        """Like `expect`, but a wrong status is a finding and the scenario goes on."""
        try:
            expect(resp, *statuses)
        except AssertionError as exc:
            self.problem(str(exc))
            return False
        return True

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


__all__ = ["JSON", "JSONAPI", "ApiClient", "ContractViolation", "Findings", "curl", "expect"]
