"""Rackspace backup agents the mock knows: the documented default plus any a config declares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...settings import ConfigError, unknown_key

# notes: rackspace_cleanups.md §1 — the agent id of every documented example request, so the
# documented `POST .../cleanups` works as written in every project.
DEFAULT_AGENT_ID = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"
_FIELDS = frozenset({"id", "project_id", "vault_id", "encrypted"})


def _vault_id(agent_id: str) -> str:
    """A stable vault id for an agent that declares none (events show it)."""
    return hashlib.sha256(f"vault/{agent_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Agent:
    """One backup agent: its id, the project it belongs to (None: every project), its vault."""

    id: str
    project_id: str | None
    vault_id: str
    encrypted: bool = False


@dataclass(frozen=True, slots=True)
class AgentBook:
    """Every known agent; lookups are per project."""

    agents: tuple[Agent, ...]

    @classmethod
    def from_config(cls, section: Any, source: str = "agents") -> AgentBook:
        """The default agent plus the `agents:` config/fixture section (a list of mappings)."""
        found = [Agent(DEFAULT_AGENT_ID, None, _vault_id(DEFAULT_AGENT_ID))]
        if section is None:
            return cls(tuple(found))
        if not isinstance(section, list):
            raise ConfigError(f"{source}: must be a list of agents ({{id, project_id?, ...}})")
        for i, entry in enumerate(section):
            where = f"{source}[{i}]"
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where}: must be a mapping with at least an id")
            unknown = sorted(set(map(str, entry)) - _FIELDS)
            if unknown:
                raise ConfigError(unknown_key(where, unknown[0], _FIELDS))
            agent_id, project = entry.get("id"), entry.get("project_id")
            if not isinstance(agent_id, str) or not agent_id:
                raise ConfigError(f"{where}.id: must be a non-empty string")
            if project is not None and not isinstance(project, str | int):
                raise ConfigError(f"{where}.project_id: must be a string")
            encrypted = entry.get("encrypted", False)
            if not isinstance(encrypted, bool):
                raise ConfigError(f"{where}.encrypted: must be true or false")
            vault = entry.get("vault_id") or _vault_id(agent_id)
            found.append(Agent(agent_id, None if project is None else str(project), str(vault),
                               encrypted))
        return cls(tuple(found))

    def find(self, project_id: str, agent_id: str) -> Agent | None:
        """The agent with this id in this project, or None."""
        for agent in self.agents:
            if agent.id == agent_id and agent.project_id in (None, project_id):
                return agent
        return None

    def in_project(self, project_id: str) -> list[Agent]:
        """The agents of a project (those declared for every project included), in order."""
        return [a for a in self.agents if a.project_id in (None, project_id)]

    def vault_of(self, project_id: str, agent_id: str) -> tuple[str, bool]:
        """(vault id, encrypted) of an agent; a stable made-up vault if it is gone."""
        agent = self.find(project_id, agent_id)
        return (agent.vault_id, agent.encrypted) if agent else (_vault_id(agent_id), False)
