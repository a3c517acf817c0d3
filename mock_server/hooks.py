"""Extension points the vendor handlers call, filled by the records backend and QA controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .lifecycle import View
    from .store import Job, Tenant

# (tenant, job type, the user's create attributes) → job size (records_count / inputs_size)
Sizer = Callable[["Tenant", str, dict[str, Any]], int]
# (tenant, job, creation context such as request headers) → None; may change job.plan
OnCreate = Callable[["Tenant", "Job", dict[str, Any]], None]
# (tenant, now) → None; applies every effect due by `now` (imports upsert, cleanups delete)
Settle = Callable[["Tenant", float], None]
# (tenant, job, view, now) → attribute values that replace the lifecycle defaults
Enrich = Callable[["Tenant", "Job", "View", float], dict[str, Any]]


@dataclass(slots=True)
class Hooks:
    """Lists of callbacks; the core calls each in registration order."""

    sizers: dict[str, Sizer] = field(default_factory=dict)
    on_create: list[OnCreate] = field(default_factory=list)
    settle: list[Settle] = field(default_factory=list)
    enrich: list[Enrich] = field(default_factory=list)

    def settle_all(self, tenant: Tenant, now: float) -> None:
        """Apply every effect due by `now`, in time order, before a request reads the tenant."""
        for fn in self.settle:
            fn(tenant, now)

    def extras(self, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
        """Attribute values contributed by the backends for one job at `now`."""
        out: dict[str, Any] = {}
        for fn in self.enrich:
            out.update(fn(tenant, job, seen, now))
        return out
