"""Every AppKey of the app, typed. Imports nothing of ours at run time, so that every part
create_app wires in can import its keys from here without reaching up to app.py (no cycles).
The types are imported for type checkers only, from modules that never import this one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .dashboard.streams import Streams
    from .domain.clock import VirtualClock
    from .domain.model import ResourceType
    from .domain.store import Store
    from .hooks import Hooks
    from .qa.controls import Controls
    from .qa.faults import FaultSet
    from .qa.journal import Journal
    from .qa.ratelimit import RateLimiter
    from .records.simulation.files import Signer
    from .render_cache import RenderCache
    from .scenarios.book import ScenarioBook
    from .settings import Settings
    from .spec.load import Spec
    from .state import Keeper
    from .state.shared import SharedKeeper
    from .vendors.rackspace.agents import AgentBook
    from .webhooks.engine import Engine

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
SPEC: web.AppKey[Spec] = web.AppKey("spec")
CLOCK: web.AppKey[VirtualClock] = web.AppKey("clock")
STORE: web.AppKey[Store] = web.AppKey("store")
TYPES: web.AppKey[dict[str, ResourceType]] = web.AppKey("types")
HOOKS: web.AppKey[Hooks] = web.AppKey("hooks")
# scheme → (request headers, wall-clock now) → the caller, or a MockError (401/403)
AUTHENTICATORS: web.AppKey[dict[str, Callable[[Mapping[str, str], float], Any]]] = web.AppKey(
    "authenticators")
SIGNER: web.AppKey[Signer] = web.AppKey("signer")  # download links (/_files/)
RENDERS: web.AppKey[RenderCache] = web.AppKey("renders")  # rendered answers of ended jobs
KEEPER: web.AppKey[Keeper] = web.AppKey("keeper")  # a state file (absent: memory only)
SHARED: web.AppKey[SharedKeeper] = web.AppKey("shared")  # replicas on PostgreSQL
RS_AGENTS: web.AppKey[AgentBook] = web.AppKey("rs_agents")  # Rackspace agents (config `agents:`)
JOURNAL: web.AppKey[Journal] = web.AppKey("journal")  # QA controls (/_mock/ and pytest)
FAULTS: web.AppKey[FaultSet] = web.AppKey("faults")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
SCENARIOS: web.AppKey[ScenarioBook] = web.AppKey("scenarios")
CONTROLS: web.AppKey[Controls] = web.AppKey("controls")
STREAMS: web.AppKey[Streams] = web.AppKey("streams")  # open dashboards' event streams
WEBHOOKS: web.AppKey[Engine] = web.AppKey("webhooks")  # webhook deliveries
