"""JSON:API rendering for Commerce Layer: resource objects, documents, lists and their links."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

from ...domain.errors import JSONAPI
from ...jsonenc import Raw, dumps, dumps_kept, fragment

_HEADERS = CIMultiDict({hdrs.CONTENT_TYPE: JSONAPI})


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON:API response (its headers copied from a made one, by Response itself: cheaper
    than content_type=)."""
    given = _HEADERS
    if headers:
        given = _HEADERS.copy()
        given.update(headers)
    return web.Response(status=status, body=dumps(body), headers=given)


def resource(
    base: str,
    rtype: str,
    rid: str,
    attributes: Mapping[str, Any],
    relationships: Iterable[str],
    meta: Mapping[str, Any],
    path: str | None = None,
    *,
    editable: bool = True,
) -> dict[str, Any]:
    """One resource object with self links and relationship links (links only, no data).
    Not `editable` (nobody adds relationship data, e.g. no include): its links come encoded
    once per resource, and `attributes` and `meta` are used as given, not copied."""
    self_url = f"{base}{path or f'/api/{rtype}/{rid}'}"
    if not editable:
        links, related = _encoded_links(self_url, tuple(relationships))
        return {"id": rid, "type": rtype, "links": links, "attributes": attributes,
                "relationships": related, "meta": meta}
    return {
        "id": rid,
        "type": rtype,
        "links": {"self": self_url},
        "attributes": dict(attributes),
        "relationships": _relationships(self_url, relationships),
        "meta": dict(meta),
    }


def _relationships(self_url: str, relationships: Iterable[str]) -> dict[str, Any]:
    return {name: {"links": {"self": f"{self_url}/relationships/{name}",
                             "related": f"{self_url}/{name}"}}
            for name in relationships}


@lru_cache(maxsize=4096)  # pollers read the same resources again and again
def _encoded_links(self_url: str, relationships: tuple[str, ...]) -> tuple[Raw, Raw]:
    return (fragment(dumps_kept({"self": self_url})),
            fragment(dumps_kept(_relationships(self_url, relationships))))


def sparse(attributes: Mapping[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    """Only the requested attributes (fields[type]=a,b), in their usual order."""
    if wanted is None:
        return attributes if type(attributes) is dict else dict(attributes)  # no copy of a copy
    return {k: v for k, v in attributes.items() if k in wanted}
