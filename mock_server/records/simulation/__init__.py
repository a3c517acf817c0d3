"""The records backend: one small consistent organization per tenant that jobs really work on.

Imports upsert records, cleanups delete them and exports snapshot them, all on the virtual clock
(settle.py); organizations start from a fixture (fixtures.py, the built-in demo by default);
export files and import inputs are served by the mock at signed, expiring links (files.py).
`install(app)` plugs it all into the core's extension points (hooks.py, Store loader).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from ...keys import CLOCK, HOOKS, SETTINGS, SIGNER, SPEC, STORE, TYPES
from .fixtures import Fixture, FixtureError, load_fixture, load_tenant, revive_tenant
from .org import Backend, OrgRecords, packaged_catalog
from .part import SIZERS, enrich, on_create
from .settle import settle

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["Backend", "Fixture", "FixtureError", "OrgRecords", "install"]


def install(app: web.Application) -> Backend:
    """Wire the backend into an app create_app is building: the tenant loader and the hooks."""


    settings = app[SETTINGS]
    backend = Backend(
        catalog=packaged_catalog(),
        settings=settings,
        clock=app[CLOCK],
        types=app[TYPES],
        signer=app[SIGNER],
    )
    fixture = load_fixture(settings.fixtures, backend, app[SPEC])  # FixtureError: bad file
    app[STORE].loader = partial(load_tenant, backend, fixture)
    app[STORE].reviver = partial(revive_tenant, backend)
    app[STORE].loader_jobs = len(fixture.jobs)
    hooks = app[HOOKS]
    hooks.sizers.update({kind: partial(size, backend) for kind, size in SIZERS.items()})
    hooks.register("records", on_create=partial(on_create, backend),
                   settle=partial(settle, backend), enrich=partial(enrich, backend))
    return backend
