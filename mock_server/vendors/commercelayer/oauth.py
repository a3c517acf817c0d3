"""POST /oauth/token and GET /api/application: what the official clients call before any job."""

from __future__ import annotations

import json

from aiohttp import web

from ...domain.errors import BadRequest
from ...handlers import handles
from ...headers import NAMESPACE_HEADER
from ...keys import CLOCK, SETTINGS
from ...namespace_path import base_url
from ...timefmt import cl_time
from ...validation import Call
from . import auth
from .auth import Principal
from .jsonapi import resource, respond


@handles("createToken")
async def create_token(request: web.Request, call: Call) -> web.StreamResponse:
    """client_credentials → a JWT carrying organization.slug, application.kind, test and exp."""
    body = call.body or {}
    if body.get("grant_type") != "client_credentials":
        raise BadRequest("Only grant_type=client_credentials is supported by the mock.",
                         code="UNSUPPORTED_GRANT_TYPE", title="Unsupported grant type",
                         pointer="/grant_type")
    settings = request.app[SETTINGS]
    client_id = str(body.get("client_id") or "")
    # A client id starting with "live" gets a live-mode token; everything else is test mode.
    token = auth.issue(
        org_slug=settings.organization,
        client_id=client_id,
        kind="integration",
        test=not client_id.startswith("live"),
        scope=str(body.get("scope") or "market:all"),
        wall_now=request.app[CLOCK].wall(),
        namespace=request.headers.get(NAMESPACE_HEADER),
    )
    return web.Response(status=200, body=json.dumps(token).encode(), content_type="application/json")


@handles("getApplication")
async def get_application(request: web.Request, call: Call) -> web.StreamResponse:
    """The calling application, as the imports and cleanups CLIs check before they start."""
    p: Principal = call.principal
    base = base_url(request, request.app[SETTINGS].public_url)
    attrs = {
        "name": f"{p.org_slug} {p.app_kind}",
        "kind": p.app_kind,
        "public_access": False,
        "redirect_uri": None,
        "scopes": "market:all",
        "confidential": True,
        "client_id": p.client_id,
        "created_at": cl_time(0.0),
        "updated_at": cl_time(0.0),
        "reference": None,
        "reference_origin": None,
        "metadata": {},
    }
    meta = {"mode": p.mode, "organization_id": p.org_id}
    return respond({"data": resource(base, "application", p.app_id, attrs, (), meta,
                                     path="/api/application")})
