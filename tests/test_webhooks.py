"""Webhooks: /api/webhooks as the vendor serves it, and deliveries on the virtual clock, signed,
in order, retried and cut off by the circuit breaker, to a real HTTP receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import requests

from contract_tests.receiver import Receiver
from mock_server import MockServer, Settings
from mock_server.keys import SPEC
from mock_server.webhooks.policy import Policy

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api, make_token
from .fixtures.webhooks import deliveries as _deliveries
from .fixtures.webhooks import export as _export
from .fixtures.webhooks import hook as _hook

CIRCUIT_AFTER, backoff = Policy().circuit_after, Policy().backoff  # the documented defaults


def _signed(secret: str, body: bytes) -> str:
    """The vendor's formula: base64(HMAC-SHA256(shared_secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# --- the resource -------------------------------------------------------------------------


def test_a_webhook_is_created_read_listed_changed_and_deleted(cl: Api) -> None:
    hook = _hook(cl, "imports.complete", "https://example.com/hooks", name="done")
    attrs = hook["attributes"]
    assert attrs["circuit_state"] == "closed" and attrs["circuit_failure_count"] == 0
    assert len(attrs["shared_secret"]) >= 16 and attrs["disabled_at"] is None
    url = f"/api/webhooks/{hook['id']}"
    assert cl.get(url).json()["data"]["attributes"] == attrs
    _hook(cl, "exports.complete", "https://example.com/other")
    listed = cl.get("/api/webhooks", params={"filter[q][topic_eq]": "imports.complete"}).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]]
    assert listed["meta"] == {"record_count": 1, "page_count": 1}

    def patch(**fields: Any) -> dict[str, Any]:
        r = cl.patch(url, json={"data": {"type": "webhooks", "id": hook["id"],
                                         "attributes": fields}})
        assert r.status_code == 200, r.text
        return r.json()["data"]["attributes"]  # type: ignore[no-any-return]

    assert patch(name="renamed")["name"] == "renamed"
    assert patch(_disable=True)["disabled_at"] is not None
    assert patch(_enable=True)["disabled_at"] is None
    assert patch(_reset_circuit=True)["circuit_state"] == "closed"
    assert cl.delete(url).status_code == 204
    assert cl.get(url).status_code == 404


@pytest.mark.parametrize(("attrs", "pointer", "detail"), [
    ({"topic": "imports.explode"}, "/data/attributes/topic", "topic - is not included in the list"),
    ({"callback_url": "ftp://example.com/x"}, "/data/attributes/callback_url", "callback_url"),
    ({"include_resources": ["versions"]}, "/data/attributes/include_resources/0",
     "is not included in the list"),
])
def test_a_bad_webhook_is_a_422_in_the_vendors_words(cl: Api, attrs: dict[str, Any],
                                                     pointer: str, detail: str) -> None:
    body = {"topic": "imports.complete", "callback_url": "https://example.com/h", **attrs}
    r = cl.post("/api/webhooks", json={"data": {"type": "webhooks", "attributes": body}})
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["source"]["pointer"] == pointer and detail in error["detail"]


def test_the_sdk_create_call_works_unmodified(cl: Api) -> None:
    """@commercelayer/sdk's cl.webhooks.create({topic, callback_url}) sends this body."""
    r = cl.post("/api/webhooks", data=json.dumps({"data": {"type": "webhooks", "attributes": {
        "topic": "imports.complete", "callback_url": "https://example.com/cb"},
        "relationships": {}}}))
    assert r.status_code == 201 and r.json()["data"]["type"] == "webhooks"


# --- deliveries ---------------------------------------------------------------------------


def test_each_transition_arrives_once_in_order_signed_as_of_its_instant(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    hooks = {t: _hook(cl, t, receiver.url()) for t in
             ("exports.create", "exports.start", "exports.complete")}
    export_id = _export(cl)
    _deliveries(server)
    assert receiver.topics() == ["exports.create"]  # the clock is frozen: nothing else yet
    server.clock.advance(3600)
    _deliveries(server)
    server.clock.advance(3600)
    _deliveries(server)
    assert receiver.topics() == ["exports.create", "exports.start", "exports.complete"]
    for arrived in receiver.got:
        topic = arrived.headers["x-commercelayer-topic"]
        secret = hooks[topic]["attributes"]["shared_secret"]
        assert arrived.headers["x-commercelayer-signature"] == _signed(secret, arrived.body)
        assert arrived.headers["content-type"] == "application/vnd.api+json"
    bodies = [json.loads(a.body)["data"] for a in receiver.got]
    assert {b["id"] for b in bodies} == {export_id}
    statuses = [b["attributes"]["status"] for b in bodies]
    assert statuses == ["pending", "in_progress", "completed"]
    started = bodies[1]["attributes"]
    assert started["started_at"] is not None and started["completed_at"] is None
    assert bodies[2]["attributes"]["completed_at"] is not None


def test_one_jump_and_many_steps_deliver_the_same_events(receiver: Receiver) -> None:
    seen = []
    for steps in (1, 12):
        receiver.got.clear()
        with MockServer(Settings(port=0, seed=7, frozen=True, start=START_ISO)) as srv:
            api = Api(srv.url, ResponseChecker(srv.app[SPEC]), {
                "Authorization": f"Bearer {make_token()}", "Accept": JSONAPI,
                "Content-Type": JSONAPI})
            for topic in ("exports.start", "exports.complete"):
                _hook(api, topic, receiver.url())
            for _ in range(3):
                _export(api)
                srv.clock.advance(1)
            for _ in range(steps):
                srv.clock.advance(3600 / steps)
                _deliveries(srv)
            seen.append([(a.headers["x-commercelayer-topic"], json.loads(a.body)["data"]["id"])
                         for a in receiver.got])
    assert seen[0] == seen[1] and len(seen[0]) == 6


def test_two_jobs_events_interleave_by_their_instants(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _hook(cl, "exports.complete", receiver.url())
    slow = _export(cl, metadata={"mock_scenario": {"durations": {"running": 600}}})
    server.clock.advance(1)
    fast = _export(cl, metadata={"mock_scenario": {"durations": {"running": 10}}})
    server.clock.advance(3600)
    _deliveries(server)
    assert [json.loads(a.body)["data"]["id"] for a in receiver.got] == [fast, slow]


def test_a_failing_receiver_is_retried_on_the_clock_with_the_same_event_id(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    receiver.failing = 2
    hook = _hook(cl, "exports.create", receiver.url())
    _export(cl)
    assert [d["status"] for d in _deliveries(server)] == ["retrying"]
    server.clock.advance(backoff(1))
    _deliveries(server)
    server.clock.advance(backoff(2))
    (delivery,) = _deliveries(server)
    assert delivery["status"] == "delivered"
    assert [a["response_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert len({a.headers["x-mock-event-id"] for a in receiver.got}) == 1
    assert len(receiver.got) == 3
    callbacks = cl.get(f"/api/webhooks/{hook['id']}/last_event_callbacks").json()["data"]
    assert [c["attributes"]["response_code"] for c in callbacks] == ["200", "500", "500"]
    assert all(c["attributes"]["payload"]["data"]["type"] == "exports" for c in callbacks)
    after = cl.get(f"/api/webhooks/{hook['id']}").json()["data"]["attributes"]
    assert after["circuit_failure_count"] == 0 and after["circuit_state"] == "closed"


def test_the_circuit_opens_after_30_failures_until_it_is_reset(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    receiver.status = 503
    hook = _hook(cl, "exports.create", receiver.url())
    for _ in range(3):  # 3 events × (1 + 10 retries) > 30 attempts
        _export(cl)
        server.clock.advance(1)
    for _ in range(12):
        _deliveries(server)
        server.clock.advance(4000)
    _deliveries(server)
    assert len(receiver.got) == CIRCUIT_AFTER
    url = f"/api/webhooks/{hook['id']}"
    attrs = cl.get(url).json()["data"]["attributes"]
    assert attrs["circuit_state"] == "open" and attrs["circuit_failure_count"] == CIRCUIT_AFTER
    logged = len(_deliveries(server))
    _export(cl)
    assert len(_deliveries(server)) == logged  # open: nothing is sent (nor logged)
    assert len(receiver.got) == CIRCUIT_AFTER
    r = cl.patch(url, json={"data": {"type": "webhooks", "id": hook["id"],
                                     "attributes": {"_reset_circuit": True}}})
    assert r.json()["data"]["attributes"]["circuit_failure_count"] == 0
    receiver.status = 200
    _export(cl)
    _deliveries(server)
    assert receiver.got[-1].headers["x-commercelayer-topic"] == "exports.create"
    assert len(receiver.got) == CIRCUIT_AFTER + 1


def test_a_deleted_job_sends_its_id(server: MockServer, cl: Api, receiver: Receiver) -> None:
    _hook(cl, "exports.destroy", receiver.url())
    export_id = _export(cl)
    server.clock.advance(3600)
    assert cl.delete(f"/api/exports/{export_id}").status_code == 204
    _deliveries(server)
    assert [json.loads(a.body) for a in receiver.got] == [
        {"data": {"id": export_id, "type": "exports"}}]


def test_a_disabled_webhook_and_an_older_job_send_nothing(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _export(cl)  # created before the webhook: its create is not the webhook's to send
    server.clock.advance(1)
    hook = _hook(cl, "exports.create", receiver.url())
    cl.patch(f"/api/webhooks/{hook['id']}", json={"data": {
        "type": "webhooks", "id": hook["id"], "attributes": {"_disable": True}}})
    _export(cl)
    _deliveries(server)
    assert receiver.got == []


def test_include_resources_embeds_the_events_up_to_the_instant(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _hook(cl, "exports.start", receiver.url(), include_resources=["events"])
    _export(cl)
    server.clock.advance(3600)
    _deliveries(server)
    (doc,) = [json.loads(a.body) for a in receiver.got]
    assert [e["attributes"]["name"] for e in doc["included"]] == ["create", "start"]
    assert [r["id"] for r in doc["data"]["relationships"]["events"]["data"]] == \
        [e["id"] for e in doc["included"]]


def test_the_built_in_receiver_checks_signatures(server: MockServer, cl: Api) -> None:
    inbox = f"{server.url}/_mock/webhooks/inbox/mine"
    _hook(cl, "exports.create", inbox)
    _export(cl)
    got = requests.get(inbox, timeout=30).json()
    assert got["count"] == 1
    (first,) = got["received"]
    assert first["topic"] == "exports.create" and first["signature_valid"] is True
    forged = requests.post(inbox, data=b'{"data": {"id": "x", "type": "exports"}}', timeout=10,
                           headers={"Content-Type": "application/json",
                                    "X-CommerceLayer-Signature": "AAAA"})
    assert forged.status_code == 204
    assert requests.get(inbox, timeout=10).json()["received"][-1]["signature_valid"] is False


def test_an_import_rewritten_as_its_items_settle_sends_each_topic_once(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    for topic in ("imports.create", "imports.start", "imports.complete"):
        _hook(cl, topic, receiver.url())
    inputs = [{"code": f"WH-{i}", "name": f"Item {i}"} for i in range(10)]
    r = cl.post("/api/imports", json={"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": inputs}}})
    assert r.status_code == 201, r.text
    for _ in range(20):  # polled as it runs: every read settles items (the job is rewritten)
        server.clock.advance(3)
        cl.get(f"/api/imports/{r.json()['data']['id']}")
        _deliveries(server)
    server.clock.advance(3600)
    _deliveries(server)
    assert receiver.topics() == ["imports.create", "imports.start", "imports.complete"]
    done = json.loads(receiver.got[-1].body)["data"]["attributes"]
    assert done["status"] == "completed" and done["processed_count"] == 10


# --- QA controls on deliveries (metadata.mock_delivery) ------------------------------------


def _controlled(cl: Api, url: str, controls: Any, topic: str = "exports.create"
                ) -> dict[str, Any]:
    return _hook(cl, topic, url, metadata={"mock_delivery": controls})


def test_a_delayed_delivery_waits_on_the_clock(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _controlled(cl, receiver.url(), {"delay": 30})
    _export(cl)
    _deliveries(server)
    assert receiver.got == []
    server.clock.advance(29)
    _deliveries(server)
    assert receiver.got == []
    server.clock.advance(1)
    _deliveries(server)
    assert receiver.topics() == ["exports.create"]


def test_dropped_events_are_never_sent(server: MockServer, cl: Api, receiver: Receiver) -> None:
    _controlled(cl, receiver.url(), {"drop": 1})
    _export(cl)
    _export(cl)
    assert [d["status"] for d in _deliveries(server)] == ["dropped", "dropped"]
    server.clock.advance(3600)
    _deliveries(server)
    assert receiver.got == []


def test_a_duplicated_event_arrives_twice_with_one_event_id(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _controlled(cl, receiver.url(), {"duplicate": 1})
    _export(cl)
    _deliveries(server)
    assert len(receiver.got) == 2
    assert receiver.got[0].body == receiver.got[1].body
    assert len({a.headers["x-mock-event-id"] for a in receiver.got}) == 1


def test_a_bad_signature_does_not_verify(server: MockServer, cl: Api, receiver: Receiver) -> None:
    hook = _controlled(cl, receiver.url(), {"bad_signature": True})
    inbox = f"{server.url}/_mock/webhooks/inbox/forged"
    _controlled(cl, inbox, {"bad_signature": True})
    _export(cl)
    (got,) = requests.get(inbox, timeout=30).json()["received"]
    assert got["signature_valid"] is False  # the built-in receiver says so
    (arrived,) = receiver.got
    secret = hook["attributes"]["shared_secret"]
    assert arrived.headers["x-commercelayer-signature"] != _signed(secret, arrived.body)


def test_a_forced_failure_counts_against_the_circuit(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    hook = _controlled(cl, receiver.url(), {"fail": True})
    _export(cl)
    (delivery,) = _deliveries(server)
    assert delivery["status"] == "retrying" and len(receiver.got) == 1  # it did arrive
    attrs = cl.get(f"/api/webhooks/{hook['id']}").json()["data"]["attributes"]
    assert attrs["circuit_failure_count"] == 1


@pytest.mark.parametrize(("controls", "key"), [
    ({"drop": 2}, "drop"), ({"delay": -1}, "delay"), ({"explode": True}, "explode"),
    ({"delay": {"min": 5, "max": 1}}, "delay"), ({"fail": "yes"}, "fail")])
def test_a_bad_delivery_control_is_a_422_naming_it(cl: Api, controls: Any, key: str) -> None:
    r = cl.post("/api/webhooks", json={"data": {"type": "webhooks", "attributes": {
        "topic": "exports.create", "callback_url": "https://example.com/h",
        "metadata": {"mock_delivery": controls}}}})
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["source"]["pointer"] == f"/data/attributes/metadata/mock_delivery/{key}"


def test_a_running_clock_delivers_without_anyone_asking(receiver: Receiver) -> None:
    """Nobody advances the clock or reads anything: the engine wakes at the next transition
    (at 3600× an export ends within milliseconds of real time; the wait is only a bound)."""
    with MockServer(Settings(port=0, seed=7, speed=3600, start=START_ISO)) as srv:
        api = Api(srv.url, ResponseChecker(srv.app[SPEC]), {
            "Authorization": f"Bearer {make_token()}", "Accept": JSONAPI,
            "Content-Type": JSONAPI})
        _hook(api, "exports.complete", receiver.url())
        _export(api)
        deadline = time.monotonic() + 30
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.01)
    assert receiver.topics() == ["exports.complete"]


def test_each_attempt_is_in_the_journal_beside_the_requests(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    receiver.failing = 1
    _hook(cl, "exports.create", receiver.url())
    _export(cl)
    _deliveries(server)
    server.clock.advance(backoff(1))
    _deliveries(server)
    r = requests.get(f"{server.url}/_mock/requests", params={"method": "POST"}, timeout=10)
    sent = [e for e in r.json()["requests"] if e["path"] == receiver.url()]
    assert [e["response"]["status"] for e in sent] == [500, 200]
    assert {e["operation"] for e in sent} == {"webhook exports.create"}
    assert json.loads(sent[0]["request"]["body"])["data"]["type"] == "exports"
