"""Webhooks with two replicas on one PostgreSQL database: one replica sends each event once,
whichever replica the webhook, the job and the clock were changed through; event callbacks read
the same through both; when the sending replica is killed, the other takes over and sends what
falls due next, from its outbox too."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from contract_tests.receiver import Receiver
from mock_server import MockServer

from .fixtures.durability import CL, Child


def _hook(url: str, topic: str, callback_url: str) -> dict[str, Any]:
    r = requests.post(f"{url}/api/webhooks", headers=CL, timeout=30, data=json.dumps({"data": {
        "type": "webhooks", "attributes": {"topic": topic, "callback_url": callback_url}}}))
    assert r.status_code == 201, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


def _export(url: str) -> str:
    r = requests.post(f"{url}/api/exports", headers=CL, timeout=30, data=json.dumps(
        {"data": {"type": "exports", "attributes": {"resource_type": "skus"}}}))
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def _advance(url: str, seconds: float) -> None:
    r = requests.post(f"{url}/_mock/clock", json={"advance": seconds}, timeout=30)
    assert r.status_code == 200, r.text


def _deliveries(url: str) -> dict[str, Any]:
    r = requests.get(f"{url}/_mock/webhooks/deliveries", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _until(what: Callable[[], Any], bound: float = 60) -> Any:
    """Poll `what` until it is truthy; the bound only ends a test that would hang."""
    deadline = time.monotonic() + bound
    while not (found := what()):
        assert time.monotonic() < deadline, "not within the bound"
        time.sleep(0.05)
    return found


def _hook_callbacks(url: str, hook_id: str) -> list[dict[str, Any]]:
    """The webhook's event callbacks once there is one (its retry is in the same write)."""
    return _until(lambda: requests.get(f"{url}/api/webhooks/{hook_id}/last_event_callbacks",
                                       headers=CL, timeout=30).json()["data"])


def _sender(*urls: str) -> str:
    return _until(lambda: next((u for u in urls if _deliveries(u)["sending"]), None))


def test_one_replica_sends_each_event_once_whichever_replica_changed_what(
        pair: tuple[MockServer, MockServer], receiver: Receiver) -> None:
    a, b = pair
    sender = _sender(a.url, b.url)
    other = b.url if sender == a.url else a.url
    hooks = [_hook(other, f"exports.{verb}", receiver.url()) for verb in
             ("create", "start", "complete")]  # the webhooks through the replica that does not send
    job = _export(other)  # and the job
    _advance(other, 3600)  # and the clock
    _until(lambda: len(receiver.got) >= 3)
    _deliveries(sender)  # every delivery due by now was attempted: nothing more arrives
    assert receiver.topics() == ["exports.create", "exports.start", "exports.complete"]
    bodies = [json.loads(arrived.body) for arrived in receiver.got]
    assert [doc["data"]["id"] for doc in bodies] == [job] * 3
    assert [doc["data"]["attributes"]["status"] for doc in bodies] == [
        "pending", "in_progress", "completed"]
    assert _deliveries(other) == {"count": 0, "sending": False, "deliveries": []}
    for hook in hooks:  # the attempts are records every replica reads
        seen = [requests.get(f"{url}/api/webhooks/{hook['id']}/last_event_callbacks",
                             headers=CL, timeout=30).json()["data"] for url in (a.url, b.url)]
        assert seen[0] == seen[1] and [c["attributes"]["response_code"] for c in seen[0]] == [
            "200"]


def test_a_circuit_opened_by_the_sender_reads_open_through_the_other(
        pair: tuple[MockServer, MockServer], receiver: Receiver) -> None:
    a, b = pair
    sender = _sender(a.url, b.url)
    other = b.url if sender == a.url else a.url
    receiver.status = 503
    hook = _hook(other, "exports.create", receiver.url())
    for _ in range(3):  # 3 events × (1 + 10 retries) > 30 attempts
        _export(other)
        _advance(other, 1)
    _until(lambda: len(receiver.got) >= 3)
    for _ in range(12):
        _deliveries(sender)
        _advance(other, 4000)
    _until(lambda: len(receiver.got) >= 30)
    attrs = requests.get(f"{other}/api/webhooks/{hook['id']}", headers=CL,
                         timeout=30).json()["data"]["attributes"]
    assert attrs["circuit_state"] == "open" and attrs["circuit_failure_count"] == 30
    assert len(receiver.got) == 30


@pytest.fixture
def processes(pg_url: str) -> Iterator[tuple[Child, Child]]:
    a = Child("--state", pg_url, "--frozen")
    b = Child("--state", pg_url, "--frozen")
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_when_the_sending_replica_is_killed_the_other_takes_over(
        processes: tuple[Child, Child], receiver: Receiver) -> None:
    by_url = {p.url: p for p in processes}
    sender = _sender(*by_url)
    (other,) = set(by_url) - {sender}
    receiver.failing = 1  # the first attempt fails: a retry waits in the outbox
    hook = _hook(other, "exports.create", receiver.url("/created"))
    _hook(other, "exports.complete", receiver.url("/completed"))
    job = _export(other)
    (failed,) = _hook_callbacks(other, hook["id"])  # the first attempt failed
    assert failed["attributes"]["response_code"] == "500"
    by_url[sender].kill()  # SIGKILL: the lead passes on with its connection
    assert _sender(other) == other
    _advance(other, 3600)  # the retry and the completion fall due on the new sender
    _until(lambda: len(receiver.arrived("/created")) >= 2 and receiver.arrived("/completed"))
    _deliveries(other)
    created = receiver.arrived("/created")
    assert len({a.headers["x-mock-event-id"] for a in created}) == 1  # one event, retried
    (completed,) = receiver.arrived("/completed")
    assert json.loads(completed.body)["data"]["id"] == job
