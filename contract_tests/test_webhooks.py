"""Webhooks (opt-in: `--webhook-receiver HOST:PORT`, an address of this runner the target can
reach). The suite listens there, subscribes to an export's topics, runs one export to its end,
and checks what arrives: every topic once and in order, each signed as the vendor signs
(base64(HMAC-SHA256(shared_secret, raw body))), each payload the export's document as the spec
describes it, at the status its topic names. Nothing arriving within the polling budget is a
failure, as is anything arriving unsigned or out of order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import jobs
from .client import ApiClient
from .jobs import RUN, JobKind
from .receiver import Receiver
from .target import Target
from .timeline import Timeline

pytestmark = [pytest.mark.webhooks, pytest.mark.api("commercelayer")]

# notes: webhooks_state_browser.md §1; the status each topic's payload shows (Webhook.x-topics)
TOPICS = {"exports.create": "pending", "exports.start": "in_progress",
          "exports.complete": "completed"}


@pytest.fixture
def receiver(target: Target) -> Iterator[Receiver]:
    assert target.webhook_receiver is not None  # deselected without it (conftest)
    found = Receiver(*target.webhook_receiver)
    yield found
    found.close()


def _signed(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _validator(spec: Mapping[str, Any], schema: str) -> Draft202012Validator:
    """A validator of one component schema of the spec (OpenAPI 3.1: JSON Schema 2020-12)."""
    resource = Resource.from_contents(dict(spec), default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:contract-spec", resource)
    return Draft202012Validator({"$ref": f"urn:contract-spec#/components/schemas/{schema}"},
                                registry=registry)


def test_an_exports_topics_arrive_once_in_order_signed_and_as_documented(
        cl: ApiClient, receiver: Receiver, timeline: Timeline, job_kinds: dict[str, JobKind],
        spec: Mapping[str, Any], target: Target) -> None:
    path = f"/contract-{RUN}"
    hooks: dict[str, dict[str, Any]] = {}
    try:
        for topic in TOPICS:
            resp = cl.post("/api/webhooks", {"data": {"type": "webhooks", "attributes": {
                "topic": topic, "callback_url": receiver.url(path),
                "reference": f"contract-{RUN}"}}})
            if not cl.expect(resp, 201):
                return
            hooks[topic] = resp.json()["data"]
        job = jobs.create(cl, job_kinds["exports"])
        seen = jobs.poll(cl, job_kinds["exports"], job.id, timeline, jobs.terminal)
        if seen[-1].status != "completed":
            cl.problem(f"export {job.id} ended `{seen[-1].status}`: the webhook checks need a "
                       f"completed export")
            return
        mine = _wait(receiver, path, job.id, timeline)
        _check(cl, mine, hooks, job.id, _validator(spec, "ExportDocument"))
    finally:
        for hook in hooks.values():
            cl.delete(f"/api/webhooks/{hook['id']}")


def _of_job(arrived: Any, job_id: str) -> bool:
    try:
        return json.loads(arrived.body)["data"]["id"] == job_id  # type: ignore[no-any-return]
    except (ValueError, KeyError, TypeError):
        return True  # unreadable: kept, so the checks say what is wrong with it


def _wait(receiver: Receiver, path: str, job_id: str, timeline: Timeline) -> list[Any]:
    """What arrived for the job, once every topic has (or the real-time budget is spent)."""
    deadline = time.monotonic() + max(timeline.budget - timeline.spent, 5.0)
    while True:
        mine = [a for a in receiver.arrived(path) if _of_job(a, job_id)]
        if len(mine) >= len(TOPICS) or time.monotonic() >= deadline:
            return mine
        time.sleep(0.05)


def _check(cl: ApiClient, mine: list[Any], hooks: Mapping[str, Mapping[str, Any]], job_id: str,
           validator: Draft202012Validator) -> None:
    topics = [a.headers.get("x-commercelayer-topic") for a in mine]
    cl.check(topics == list(TOPICS), f"export {job_id}: Received webhook topics {topics} / "
                                     f"Documented {list(TOPICS)}, each once, in order")
    for arrived in mine:
        topic = arrived.headers.get("x-commercelayer-topic")
        hook = hooks.get(str(topic))
        if hook is None:
            continue
        secret = str(hook["attributes"].get("shared_secret") or "")
        cl.check(arrived.headers.get("x-commercelayer-signature") == _signed(secret, arrived.body),
                 f"{topic}: X-CommerceLayer-Signature is not base64(HMAC-SHA256(shared_secret, "
                 f"body)) / Documented (callbacks-security)")
        try:
            doc = json.loads(arrived.body)
        except ValueError:
            cl.problem(f"{topic}: the body is not JSON")
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        cl.check(not errors, f"{topic}: the payload breaks ExportDocument: "
                             f"{errors[0].message if errors else ''}")
        status = (doc.get("data") or {}).get("attributes", {}).get("status")
        cl.check(status == TOPICS[str(topic)], f"{topic}: Received status `{status}` / "
                                               f"Documented `{TOPICS[str(topic)]}`")
