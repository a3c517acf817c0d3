"""Rules that need a second request: created jobs are retrievable, deleted ones are gone."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from .exchange import Exchange, find_template
from .model import dialect, media_type

Fetch = Callable[[str, Mapping[str, str]], requests.Response]
_FORWARDED = ("authorization", "x-auth-token", "x-mock-namespace")


def fetch(url: str, headers: Mapping[str, str]) -> requests.Response:
    """GET with a short timeout (the default transport of the follow-up rules)."""
    return requests.get(url, headers=dict(headers), timeout=30)


def follow_headers(ex: Exchange) -> dict[str, str]:
    """The original request's credentials and namespace, plus the API's Accept."""
    out = {k: v for k, v in ex.request_headers.items() if k.lower() in _FORWARDED}
    out["Accept"] = media_type(ex.path)
    return out


def _path_params(ex: Exchange) -> dict[str, str]:
    if ex.template is None:
        return {}
    names = re.findall(r"\{([^}]+)\}", ex.template)
    pattern = "^" + re.sub(r"\{[^}]+\}", "([^/]+)", ex.template) + "$"
    match = re.match(pattern, ex.path)
    return dict(zip(names, match.groups(), strict=True)) if match else {}


def _pointer(doc: Any, pointer: str) -> Any:
    for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        elif isinstance(doc, Mapping) and token in doc:
            doc = doc[token]
        else:
            return None
    return doc


def evaluate(ex: Exchange, expression: Any) -> Any:
    """An OpenAPI runtime expression against this exchange (None when it cannot be resolved)."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    if expression.startswith("$response.body#"):
        return _pointer(ex.body, expression.split("#", 1)[1])
    if expression.startswith("$request.path."):
        return _path_params(ex).get(expression.removeprefix("$request.path."))
    if expression.startswith("$request.query."):
        return dict(ex.query).get(expression.removeprefix("$request.query."))
    return None


def linked_gets(ex: Exchange) -> list[tuple[str, str]]:
    """(link name, URL) of every GET the spec links from this response, fully resolved."""
    declared = ex.declared() or {}
    found: list[tuple[str, str]] = []
    split = urlsplit(ex.url)
    for name, link in (declared.get("links") or {}).items():
        target = _operation(ex.spec, link.get("operationId"))
        if target is None or target[1] != "get":
            continue
        path, query = target[0], {}
        ok = True
        for param, expression in (link.get("parameters") or {}).items():
            value = evaluate(ex, expression)
            if value is None:
                ok = False
                break
            if "{" + param + "}" in path:
                path = path.replace("{" + param + "}", quote(str(value), safe=""))
            else:
                query[param] = str(value)
        if ok and "{" not in path:
            url = f"{split.scheme}://{split.netloc}{path}"
            found.append((name, url + ("?" + urlencode(query) if query else "")))
    return found


def _operation(spec: Mapping[str, Any], operation_id: Any) -> tuple[str, str] | None:
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, Mapping) and op.get("operationId") == operation_id:
                return path, method
    return None


def retrievable_problems(ex: Exchange, get: Fetch = fetch) -> list[str]:
    """After a 201, every GET the spec links from it answers 200 (and shows the same job)."""
    if ex.method != "POST" or ex.status != 201:
        return []
    created = {job.id for job in ex.jobs()}
    out: list[str] = []
    for name, url in linked_gets(ex):
        resp = get(url, follow_headers(ex))
        if resp.status_code != 200:
            out.append(f"Created resource not retrievable via link {name}. Received "
                       f"GET {urlsplit(url).path} → {resp.status_code} / Documented 200")
            continue
        seen = Exchange.from_requests(resp, ex.spec)
        ids = {job.id for job in seen.jobs()}
        if created and ids and not created & ids:
            out.append(f"Link {name} shows another job. Received {sorted(ids)} / "
                       f"Documented {sorted(created)}")
    return out


def deleted_problems(ex: Exchange, get: Fetch = fetch) -> list[str]:
    """After a successful DELETE, GET on the same URL answers 404."""
    if ex.method != "DELETE" or not 200 <= ex.status < 300:
        return []
    if find_template(ex.spec, "GET", ex.path) is None:
        return []
    resp = get(ex.url, follow_headers(ex))
    if resp.status_code == 404:
        return []
    return [f"Deleted resource still there. Received GET {ex.path} → {resp.status_code} / "
            f"Documented 404"]


def _written(ex: Exchange) -> dict[str, Any]:
    """The user's fields a JSON:API PATCH set (triggers and nulls aside: a server may store a
    null as its empty value)."""
    body = ex.request_body
    data = body.get("data") if isinstance(body, Mapping) else None
    attrs = data.get("attributes") if isinstance(data, Mapping) else None
    if not isinstance(attrs, Mapping):
        return {}
    return {k: v for k, v in attrs.items() if not k.startswith("_") and v is not None}


def _attributes(body: Any) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, Mapping) else None
    attrs = data.get("attributes") if isinstance(data, Mapping) else None
    return attrs if isinstance(attrs, Mapping) else {}


def written_problems(ex: Exchange, get: Fetch = fetch) -> list[str]:
    """After an accepted PATCH, its answer and the next GET show the fields it wrote (notes:
    commercelayer_api.md §2 "200, body is the updated object")."""
    if ex.method != "PATCH" or not 200 <= ex.status < 300 or dialect(ex.path) != "commercelayer":
        return []
    written = _written(ex)
    if not written:
        return []
    out: list[str] = []
    resp = get(ex.url, follow_headers(ex))
    for where, attrs in (("the PATCH answer", _attributes(ex.body)),
                         ("the next GET", _attributes(_json_of(resp)))):
        for name, value in written.items():
            if name in attrs and attrs[name] != value:
                out.append(f"{ex.path}: `{name}` written but not kept. Received {name}="
                           f"{attrs[name]!r} in {where} / Documented {value!r}, as written")
    return out


def _json_of(resp: requests.Response) -> Any:
    try:
        return resp.json() if resp.status_code == 200 else None
    except ValueError:
        return None
