"""Extension points the vendor handlers call, filled by named parts in a declared precedence.

A part registers its callbacks under its name; the core calls them in PRECEDENCE order, so where
two parts give the same attribute the later part's value wins, by declaration, never by the order
in which create_app happened to register them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .domain.lifecycle import View
    from .domain.store import Job, Tenant

# (tenant, job type, the user's create attributes) → job size (records_count / inputs_size)
Sizer = Callable[["Tenant", str, dict[str, Any]], int]
# (tenant, job, creation context such as request headers) → None; may change job.plan
OnCreate = Callable[["Tenant", "Job", dict[str, Any]], None]
# (tenant, now) → None; applies every effect due by `now` (imports upsert, cleanups delete)
Settle = Callable[["Tenant", float], None]
# (tenant, job, view, now) → attribute values that replace the lifecycle defaults
Enrich = Callable[["Tenant", "Job", "View", float], dict[str, Any]]

# The parts, lowest precedence first. "records": the simulation of what jobs do to the
# organization's records (counts, item errors, files); "scenarios": QA fates, which set a job's
# plan after the records part has started tracking it and word a forced export failure over it.
PRECEDENCE = ("records", "scenarios")


@dataclass(slots=True)
class Hooks:
    """Each extension point: part name → callback."""

    sizers: dict[str, Sizer] = field(default_factory=dict)  # by job type, one part sizes jobs
    _on_create: dict[str, OnCreate] = field(default_factory=dict)
    _settle: dict[str, Settle] = field(default_factory=dict)
    _enrich: dict[str, Enrich] = field(default_factory=dict)
    # the same callbacks in precedence order, worked out at registration (read on every request)
    _settlers: tuple[Settle, ...] = ()
    _enrichers: tuple[Enrich, ...] = ()

    def register(self, part: str, *, on_create: OnCreate | None = None,
                 settle: Settle | None = None, enrich: Enrich | None = None) -> None:
        """Give `part` (one of PRECEDENCE) its callbacks; registering a part twice is an error."""
        if part not in PRECEDENCE:
            raise ValueError(f"unknown part {part!r}; declare it in hooks.PRECEDENCE")
        for table, fn in ((self._on_create, on_create), (self._settle, settle),
                          (self._enrich, enrich)):
            if fn is None:
                continue
            if part in table:
                raise ValueError(f"part {part!r} is registered already")
            table[part] = fn
        self._settlers = tuple(_ordered(self._settle))
        self._enrichers = tuple(_ordered(self._enrich))

    @property
    def on_create(self) -> list[OnCreate]:
        """The creation callbacks, in precedence order."""
        return list(_ordered(self._on_create))

    def settle_all(self, tenant: Tenant, now: float) -> None:
        """Apply every effect due by `now`, in time order, before a request reads the tenant."""
        for fn in self._settlers:
            fn(tenant, now)

    def extras(self, tenant: Tenant, job: Job, seen: View, now: float) -> dict[str, Any]:
        """Attribute values the parts contribute for one job at `now` (higher precedence wins)."""
        out: dict[str, Any] = {}
        for fn in self._enrichers:
            out.update(fn(tenant, job, seen, now))
        return out


def _ordered(table: dict[str, Any]) -> Iterator[Any]:
    return (table[part] for part in PRECEDENCE if part in table)
