"""JSON:API rendering for Commerce Layer: resource objects, documents, lists and their links."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..errors import JSONAPI


def base_url(request: web.Request, public_url: str | None) -> str:
    """Absolute base for links: --public-url, else the host the client used."""
    if public_url:
        return public_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON:API response."""
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=JSONAPI,
        headers=headers,
    )


def resource(
    base: str,
    rtype: str,
    rid: str,
    attributes: Mapping[str, Any],
    relationships: Iterable[str],
    meta: Mapping[str, Any],
    path: str | None = None,
) -> dict[str, Any]:
    """One resource object with self links and relationship links (links only, no data)."""
    self_url = f"{base}{path or f'/api/{rtype}/{rid}'}"
    return {
        "id": rid,
        "type": rtype,
        "links": {"self": self_url},
        "attributes": dict(attributes),
        "relationships": {
            name: {"links": {"self": f"{self_url}/relationships/{name}", "related": f"{self_url}/{name}"}}
            for name in relationships
        },
        "meta": dict(meta),
    }


def sparse(attributes: Mapping[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    """Only the requested attributes (fields[type]=a,b), in their usual order."""
    if wanted is None:
        return dict(attributes)
    return {k: v for k, v in attributes.items() if k in wanted}


def page_links(
    base: str, path: str, pairs: Sequence[tuple[str, str]], number: int, size: int, page_count: int
) -> dict[str, str]:
    """first/prev/next/last links that keep every other query parameter as sent."""
    kept = [(k, v) for k, v in pairs if k not in ("page[number]", "page[size]")]

    def link(n: int) -> str:
        return f"{base}{path}?" + urlencode([*kept, ("page[number]", str(n)), ("page[size]", str(size))])

    last = max(page_count, 1)
    links = {"first": link(1)}
    if number > 1:
        links["prev"] = link(min(number - 1, last))
    if number < page_count:
        links["next"] = link(number + 1)
    links["last"] = link(last)
    return links
