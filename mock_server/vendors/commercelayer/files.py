"""GET /_files/{fileId}: export files and import inputs at the signed links jobs hand out.

Not a vendor operation: the real API hands out pre-signed S3 links (notes: commercelayer_api.md
§2.2). The mock serves the same bytes itself, at an absolute http URL on its own host, declared
in the spec under the `files` tag (operationId downloadAttachment) like every other route.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...domain.errors import NotFound
from ...handlers import handles
from ...keys import CLOCK, SIGNER, STORE
from ...middlewares import skippable
from ...namespace_path import base_url
from ...records.simulation.files import LINK_BASE
from ...records.simulation.imports import inputs_file
from ...validation import Call


def link_base_middleware(public_url: str | None) -> Any:
    """Make the request's absolute base (and /_ns/ prefix) known to hooks rendering links."""

    @web.middleware
    async def link_base(request: web.Request, handler: Any) -> web.StreamResponse:
        token = LINK_BASE.set(base_url(request, public_url))
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            LINK_BASE.reset(token)

    return skippable(link_base)  # the base is the Host header (part of a kept answer's key)


@handles("downloadAttachment")
async def download(request: web.Request, call: Call) -> web.StreamResponse:
    """The gzipped file as raw bytes: no Content-Encoding, the clients gunzip it themselves."""
    app = request.app
    signer = app[SIGNER]
    file_id = str(call.path["fileId"])
    ref = signer.check(file_id, call.query.get("expires"), call.query.get("signature"),
                       app[CLOCK].now)
    tenant = next((t for t in app[STORE].tenants(ref.namespace) if t.key == ref.tenant_key), None)
    job = tenant.get(ref.kind, ref.job_id) if tenant is not None else None
    if job is None:
        raise NotFound(f"No file {file_id!r}: its {ref.kind[:-1]} no longer exists.",
                       code="NOT_FOUND", title="Not found")
    if ref.kind == "exports":
        found = job.file
        if found is None:
            raise NotFound(f"The export {ref.job_id} has no file.", code="NOT_FOUND",
                           title="Not found")
        data, fmt = found.data, found.format
    else:
        data, fmt = inputs_file(job)
    # notes: schemathesis_and_clients.md §B5 — axios downloads it and gunzips it itself; a
    # Content-Encoding: gzip would make the client decode it first and the gunzip fail.
    return web.Response(body=data, content_type="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="{ref.kind}-{ref.job_id}.{fmt}.gz"'})
