"""GET /_files/{fileId}: export files and import inputs at the signed links jobs hand out.

Not a vendor operation: the real API hands out pre-signed S3 links (notes: commercelayer_api.md
§2.2). The mock serves the same bytes itself, at an absolute http URL on its own host, declared
in the spec under the `files` tag (operationId downloadAttachment) like every other route.
"""

from __future__ import annotations

from aiohttp import web

from ...domain.errors import NotFound
from ...handlers import handles
from ...keys import CLOCK, SIGNER, STORE
from ...records.simulation.imports import inputs_file
from ...validation import Call


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
