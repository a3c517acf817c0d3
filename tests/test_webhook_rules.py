"""Delivery controls by rule (admin API and config) and the delivery policy (retry schedule,
the receiver's time limit, the circuit breaker) from the config's `webhooks:` section."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from contract_tests.receiver import Receiver
from mock_server import MockServer, Settings
from mock_server.app import create_app
from mock_server.headers import NAMESPACE_HEADER
from mock_server.keys import SPEC
from mock_server.settings import ConfigError

from .fixtures.conformance import ResponseChecker
from .fixtures.http import JSONAPI, START_ISO, Api, make_token
from .fixtures.webhooks import deliveries as _deliveries
from .fixtures.webhooks import export as _export
from .fixtures.webhooks import hook as _hook


def _rule(server: MockServer, **rule: Any) -> dict[str, Any]:
    r = requests.post(f"{server.url}/_mock/webhooks/rules", json=rule, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _in(cl: Api, namespace: str) -> Api:
    """The same client, in a namespace of its own."""
    other = Api(cl.base, cl.checker, dict(cl.headers))
    other.headers[NAMESPACE_HEADER] = namespace
    return other


def test_a_rule_by_topic_drops_only_that_topics_events(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    rule = _rule(server, topic="exports.c*", drop=1)
    assert rule["id"] and rule["topic"] == "exports.c*" and rule["drop"] == 1
    _hook(cl, "exports.create", receiver.url())
    _hook(cl, "exports.start", receiver.url())
    _export(cl)
    server.clock.advance(1)
    statuses = {d["topic"]: d["status"] for d in _deliveries(server)}
    assert statuses == {"exports.create": "dropped", "exports.start": "delivered"}
    assert receiver.topics() == ["exports.start"]


def test_a_rule_by_callback_url_counts_its_answers_as_failed(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _rule(server, callback_url=receiver.url("/flaky*"), fail=True)
    flaky = _hook(cl, "exports.create", receiver.url("/flaky"))
    _hook(cl, "exports.create", receiver.url("/fine"))
    _export(cl)
    by_url = {d["callback_url"]: d["status"] for d in _deliveries(server)}
    assert by_url == {receiver.url("/flaky"): "retrying", receiver.url("/fine"): "delivered"}
    attrs = cl.get(f"/api/webhooks/{flaky['id']}").json()["data"]["attributes"]
    assert attrs["circuit_failure_count"] == 1


def test_a_namespace_rule_is_private_to_it_and_a_reset_forgets_it(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    mine, theirs = _in(cl, "qa-1"), _in(cl, "qa-2")
    r = requests.post(f"{server.url}/_mock/webhooks/rules", timeout=30,
                      json={"namespace": "qa-1", "delay": 60})
    assert r.status_code == 201 and r.json()["namespace"] == "qa-1"
    _hook(mine, "exports.create", receiver.url("/qa-1"))
    _hook(theirs, "exports.create", receiver.url("/qa-2"))
    _export(mine)
    _export(theirs)
    _deliveries(server)
    assert [a.path for a in receiver.got] == ["/qa-2"]  # qa-1's waits a minute
    listed = requests.get(f"{server.url}/_mock/webhooks/rules", params={"namespace": "qa-2"},
                          timeout=30).json()
    assert listed == {"rules": []}
    assert requests.post(f"{server.url}/_mock/reset", json={"namespace": "qa-1"},
                         timeout=30).status_code == 200
    assert requests.get(f"{server.url}/_mock/webhooks/rules", timeout=30).json() == {"rules": []}


def test_a_webhooks_own_controls_win_over_a_rule(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    _rule(server, drop=1)
    _hook(cl, "exports.create", receiver.url(), metadata={"mock_delivery": {"duplicate": 1}})
    _export(cl)
    _deliveries(server)
    assert receiver.topics() == ["exports.create", "exports.create"]


def test_a_deleted_rule_stops_and_a_cleared_set_returns_to_none(
        server: MockServer, cl: Api, receiver: Receiver) -> None:
    rule = _rule(server, drop=1)
    _rule(server, topic="exports.destroy", drop=1)
    _hook(cl, "exports.create", receiver.url())
    _export(cl)
    r = requests.delete(f"{server.url}/_mock/webhooks/rules/{rule['id']}", timeout=30)
    assert r.json() == {"removed": 1}
    again = requests.delete(f"{server.url}/_mock/webhooks/rules/{rule['id']}", timeout=30)
    assert again.status_code == 404 and again.json()["errors"][0]["source"] == {
        "parameter": "ruleId"}
    _export(cl)
    assert [d["status"] for d in _deliveries(server)] == ["dropped", "delivered"]
    assert requests.delete(f"{server.url}/_mock/webhooks/rules", timeout=30).json() == {
        "removed": 1}


@pytest.mark.parametrize(("rule", "pointer"), [
    ({"topic": "imports.*"}, ""), ({"drop": 2}, "/drop"), ({"explode": True}, "/explode"),
    ({"delay": {"min": 5, "max": 1}}, "/delay"), ({"fail": "yes"}, "/fail"),
    ({"topic": "", "drop": 1}, "/topic")])
def test_a_bad_rule_is_a_422_naming_its_member(
        server: MockServer, rule: dict[str, Any], pointer: str) -> None:
    r = requests.post(f"{server.url}/_mock/webhooks/rules", json=rule, timeout=30)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["source"]["pointer"] == pointer
    assert requests.get(f"{server.url}/_mock/webhooks/rules", timeout=30).json() == {"rules": []}


# --- the config's webhooks: section ---------------------------------------------------------

CONFIG = {"webhooks": {"retries": 2, "first_retry": 10, "max_retry": 15, "circuit_after": 5,
                       "timeout": 0.3, "rules": [{"topic": "exports.destroy", "drop": 1}]}}


@pytest.fixture
def configured() -> Iterator[MockServer]:
    settings = Settings.from_mapping(CONFIG).with_overrides(port=0, seed=7, frozen=True,
                                                            start=START_ISO)
    with MockServer(settings) as srv:
        yield srv


@pytest.fixture
def api(configured: MockServer) -> Iterator[Api]:
    checker = ResponseChecker(configured.app[SPEC])
    yield Api(configured.url, checker, {"Authorization": f"Bearer {make_token()}",
                                        "Accept": JSONAPI, "Content-Type": JSONAPI})
    assert not checker.problems, "\n".join(checker.problems)


def test_the_configured_schedule_retries_then_gives_up(
        configured: MockServer, api: Api, receiver: Receiver) -> None:
    receiver.status = 500
    hook = _hook(api, "exports.create", receiver.url())
    _export(api)

    def attempts() -> list[int | None]:
        (d,) = _deliveries(configured)
        return [a["response_code"] for a in d["attempts"]]

    assert attempts() == [500]
    configured.clock.advance(9.9)
    assert attempts() == [500]
    configured.clock.advance(0.1)  # first retry after 10 s
    assert attempts() == [500, 500]
    configured.clock.advance(14.9)  # then 20 s, capped at 15
    assert attempts() == [500, 500]
    configured.clock.advance(0.1)
    assert attempts() == [500, 500, 500]
    configured.clock.advance(3600)  # 2 retries: no more
    (d,) = _deliveries(configured)
    assert d["status"] == "failed" and len(receiver.got) == 3
    attrs = api.get(f"/api/webhooks/{hook['id']}").json()["data"]["attributes"]
    assert attrs["circuit_state"] == "closed" and attrs["circuit_failure_count"] == 3
    _export(api)  # two more failures: the 5th opens the circuit
    _deliveries(configured)
    configured.clock.advance(10)
    _deliveries(configured)
    attrs = api.get(f"/api/webhooks/{hook['id']}").json()["data"]["attributes"]
    assert attrs["circuit_state"] == "open" and attrs["circuit_failure_count"] == 5


def test_a_receiver_slower_than_the_configured_limit_fails(
        configured: MockServer, api: Api, receiver: Receiver) -> None:
    receiver.delay = 1.0
    _hook(api, "exports.create", receiver.url())
    _export(api)
    (d,) = _deliveries(configured)
    assert d["status"] == "retrying"
    assert d["attempts"][0]["response_code"] is None
    assert "no answer within 0.3 s" in d["attempts"][0]["message"]


def test_configured_rules_apply_and_come_back_after_a_full_clear(
        configured: MockServer, api: Api, receiver: Receiver) -> None:
    listed = requests.get(f"{configured.url}/_mock/webhooks/rules", timeout=30).json()["rules"]
    assert [(r["topic"], r["drop"]) for r in listed] == [("exports.destroy", 1)]
    _hook(api, "exports.destroy", receiver.url())
    job = _export(api)
    configured.clock.advance(3600)  # ended: it can be deleted
    assert api.delete(f"/api/exports/{job}").status_code == 204
    assert [d["status"] for d in _deliveries(configured)] == ["dropped"]
    requests.delete(f"{configured.url}/_mock/webhooks/rules", timeout=30)
    again = requests.get(f"{configured.url}/_mock/webhooks/rules", timeout=30).json()["rules"]
    assert again == listed


@pytest.mark.parametrize(("section", "words"), [
    ({"retries": -1}, "webhooks.retries must be between 0"),
    ({"first_retry": "soon"}, "webhooks.first_retry must be seconds"),
    ({"retry": 3}, "unknown key 'webhooks.retry'; did you mean"),
    ({"first_retry": 60, "max_retry": 30}, "max_retry must not be below first_retry"),
    ({"rules": [{"drop": 1}, {"delay": -1}]}, "webhooks.rules[1].delay: must be"),
    ({"rules": {"drop": 1}}, "webhooks.rules must be a list"),
    ([1], "webhooks must be a mapping")])
def test_a_bad_webhooks_section_names_the_key(section: Any, words: str) -> None:
    settings = Settings.from_mapping({"webhooks": section}, "mock.yaml")
    with pytest.raises(ConfigError) as raised:
        create_app(settings)
    assert str(raised.value).startswith("mock.yaml: ") and words in str(raised.value)


def test_beyond_the_queue_a_delivery_waits_on_the_clock_and_still_arrives(
        receiver: Receiver) -> None:
    settings = Settings.from_mapping({"webhooks": {"queue": 2}}).with_overrides(
        port=0, seed=7, frozen=True, start=START_ISO)
    with MockServer(settings) as server:
        checker = ResponseChecker(server.app[SPEC])
        cl = Api(server.url, checker, {"Authorization": f"Bearer {make_token()}",
                                       "Accept": JSONAPI, "Content-Type": JSONAPI})
        _hook(cl, "exports.start", receiver.url())
        for _ in range(5):
            _export(cl)
        server.clock.advance(1)  # five starts at one instant: two queue, three wait
        waiting = [d for d in _deliveries(server) if d["next_attempt_at"] is not None]
        assert len(waiting) == 3 and all(d["attempts"] == [] for d in waiting)
        assert len(receiver.got) == 2
        server.clock.advance(30)  # first_retry: they are queued again (two; one waits again)
        _deliveries(server)
        server.clock.advance(30)
        _deliveries(server)
        assert len(receiver.got) == 5
        assert {d["status"] for d in _deliveries(server)} == {"delivered"}
        assert not checker.problems
