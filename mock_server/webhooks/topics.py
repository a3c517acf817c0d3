"""Which transition of which job type fires which webhook topic: data from the spec.

The Webhook schema's `x-topics` maps each verb to the status that fires it (`destroy`: null,
fired when the job is deleted); the topic enum of WebhookCreateDocument lists the topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec.load import Spec


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic table."""

    names: tuple[str, ...]  # every topic, as the spec lists them
    by_status: dict[tuple[str, str], str]  # (job type, status) → topic
    on_delete: dict[str, str]  # job type → its destroy topic
    kinds: frozenset[str]  # job types some topic is about

    @classmethod
    def from_spec(cls, spec: Spec) -> Topics:
        verbs: dict[str, Any] = spec.schema("Webhook")["x-topics"]
        create = spec.schema("WebhookCreateDocument")
        data = spec.resolve(create["properties"]["data"])
        topic = spec.resolve(spec.resolve(data["properties"]["attributes"])["properties"]["topic"])
        names = tuple(topic["enum"])
        by_status: dict[tuple[str, str], str] = {}
        on_delete: dict[str, str] = {}
        for name in names:
            kind, _, verb = name.partition(".")
            if verb not in verbs:
                raise ValueError(f"topic {name!r}: no status for {verb!r} in Webhook.x-topics")
            if verbs[verb] is None:
                on_delete[kind] = name
            else:
                by_status[(kind, str(verbs[verb]))] = name
        kinds = frozenset(k for k, _ in by_status) | frozenset(on_delete)
        return cls(names, by_status, on_delete, kinds)
