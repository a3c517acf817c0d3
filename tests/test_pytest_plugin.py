"""The pytest plugin as a user meets it: installed fixture, one namespace per test, ini options."""

from __future__ import annotations

import json
import urllib.request

import pytest

from mock_server import MockServer, Settings, handlers
from mock_server.pytest_plugin import namespace_for

pytest_plugins = ["pytester"]

# In-process pytester runs drop the modules they imported when they end; handler modules imported
# anew would register twice. Importing them here keeps one copy for every run.
handlers.load_all()

# Helpers the generated test modules share: plain urllib, as "any client" would be.
HELPERS = '''
import json, urllib.error, urllib.request

JSONAPI = "application/vnd.api+json"

def call(method, url, token=None, body=None, headers=None):
    h = {"Accept": JSONAPI, "Content-Type": JSONAPI, **(headers or {})}
    if token:
        h["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")

def create_import(server, **attrs):
    body = {"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": [{"code": "A1", "name": "One"}], **attrs}}}
    status, doc = call("POST", server.url + "/api/imports", server.token(), body)
    assert status == 201, doc
    return doc["data"]

def status_of(server, job):
    status, doc = call("GET", job["links"]["self"], server.token())
    assert status == 200, doc
    return doc["data"]["attributes"]["status"]
'''


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(helpers=HELPERS, test_user=source)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_fixture_serves_a_namespace_any_client_can_use(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
from helpers import call, create_import, status_of

def test_create_and_read(mock_server):
    assert "/_ns/" in mock_server.url
    job = create_import(mock_server, reference="r1")
    assert job["links"]["self"].startswith(mock_server.url + "/api/imports/")
    assert status_of(mock_server, job) == "pending"
    assert mock_server.journal.count(method="POST", path="/api/imports") == 1
''')
    result.assert_outcomes(passed=1)


def test_tests_do_not_see_each_others_jobs(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import pytest
from helpers import call, create_import

@pytest.mark.parametrize("n", range(3))
def test_alone(mock_server, n):
    create_import(mock_server)
    status, doc = call("GET", mock_server.url + "/api/imports", mock_server.token())
    assert doc["meta"]["record_count"] == 1

def test_header_free_token_alone_is_enough(mock_server):
    server_root = mock_server.url.split("/_ns/")[0]
    create_import(mock_server)
    # the token carries the namespace: the same list without the path prefix
    status, doc = call("GET", server_root + "/api/imports", mock_server.token())
    assert doc["meta"]["record_count"] == 1
''')
    result.assert_outcomes(passed=4)


def test_each_test_has_its_own_clock(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
from datetime import timedelta
from helpers import create_import, status_of

def test_a_moves_time(mock_server, mock_server_session):
    mock_server.clock.freeze()
    before = mock_server_session.clock.now()
    job = create_import(mock_server)
    mock_server.clock.advance(timedelta(minutes=5))
    assert status_of(mock_server, job) == "completed"
    assert mock_server_session.clock.now() - before < 60  # the server's time did not jump

def test_b_starts_from_server_time(mock_server, mock_server_session):
    assert abs(mock_server.clock.now() - mock_server_session.clock.now()) < 60
    mock_server.clock.set_speed(600)
    assert mock_server.clock.speed == 600 and mock_server_session.clock.speed == 1.0
''')
    result.assert_outcomes(passed=2)


def test_scenarios_faults_and_reset_stay_in_the_test(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
from helpers import call, create_import, status_of

def test_future_jobs_get_the_scenario(mock_server):
    mock_server.clock.freeze()
    mock_server.scenario("imports", interrupt_at="in_progress")
    job = create_import(mock_server)
    mock_server.clock.advance(60)
    assert status_of(mock_server, job) == "interrupted"
    assert mock_server.job("imports", job["id"])["scenario"] == {"interrupt_at": "in_progress"}

def test_one_job_gets_a_scenario_by_id(mock_server):
    mock_server.clock.freeze()
    job = create_import(mock_server)
    mock_server.scenario("imports", "stall=true", job=job["id"])
    mock_server.clock.advance(3600)
    assert status_of(mock_server, job) == "in_progress"
    mock_server.scenario("imports", job=job["id"], release=True)
    mock_server.clock.advance(60)
    assert status_of(mock_server, job) == "completed"

def test_the_earlier_rule_is_gone(mock_server):
    mock_server.clock.freeze()
    job = create_import(mock_server)
    mock_server.clock.advance(60)
    assert status_of(mock_server, job) == "completed"

def test_fault_rules_are_private(mock_server):
    rule = mock_server.faults.add(path="/api/imports", method="GET", status=503)
    status, doc = call("GET", mock_server.url + "/api/imports", mock_server.token())
    assert status == 503 and doc["errors"][0]["status"] == "503"
    assert [r["hits"] for r in mock_server.faults.list() if r["id"] == rule["id"]] == [1]

def test_no_fault_here(mock_server):
    status, _ = call("GET", mock_server.url + "/api/imports", mock_server.token())
    assert status == 200

def test_reset_forgets_jobs_and_journal(mock_server):
    create_import(mock_server)
    assert len(mock_server.journal) == 1
    mock_server.reset()
    status, doc = call("GET", mock_server.url + "/api/imports", mock_server.token())
    assert doc["meta"]["record_count"] == 0
    assert len(mock_server.journal) == 1  # only the list just sent
''')
    result.assert_outcomes(passed=6)


def test_webhook_delivery_rules_stay_in_the_test(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
from helpers import call, create_import

def hook(server, topic):
    body = {"data": {"type": "webhooks", "attributes": {
        "topic": topic, "callback_url": server.webhooks.receiver_url}}}
    assert call("POST", server.url + "/api/webhooks", server.token(), body)[0] == 201

def test_a_rule_drops_this_tests_events(mock_server):
    mock_server.clock.freeze()
    mock_server.webhooks.rule(topic="imports.create", drop=1)
    hook(mock_server, "imports.create")
    hook(mock_server, "imports.start")
    create_import(mock_server)
    mock_server.clock.advance(60)
    assert [e.topic for e in mock_server.webhooks.received()] == ["imports.start"]
    assert [d["status"] for d in mock_server.webhooks.deliveries(topic="imports.create")] == [
        "dropped"]

def test_the_next_test_has_no_rule(mock_server):
    mock_server.clock.freeze()
    hook(mock_server, "imports.create")
    create_import(mock_server)
    assert [e.topic for e in mock_server.webhooks.received()] == ["imports.create"]
''', "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_rackspace_clients_are_isolated_by_the_url(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import pytest
from helpers import call

AGENT = "8f135b4f-7a69-4b8a-947f-5e80d772fd97"

@pytest.mark.parametrize("n", range(2))
def test_cleanups(mock_server, n):
    rs = {"X-Auth-Token": "any-token", "Accept": "application/json",
          "Content-Type": "application/json"}
    url = mock_server.url + "/v2/123456/cleanups"
    status, _ = call("POST", url, body={"agent_id": AGENT, "state": "start_requested"}, headers=rs)
    assert status == 201
    status, doc = call("GET", url, headers=rs)
    assert len(doc["cleanups"]) == 1
    assert doc["cleanups"][0]["links"][0]["href"].startswith(mock_server.url)
''')
    result.assert_outcomes(passed=2)


def test_admin_api_under_the_url_acts_on_the_test_only(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
from helpers import call, create_import, status_of

def test_admin_clock_is_the_tests_clock(mock_server, mock_server_session):
    mock_server.clock.freeze()
    job = create_import(mock_server)
    status, clock = call("POST", mock_server.url + "/_mock/clock", body={"advance": "PT5M"},
                         headers={"Content-Type": "application/json"})
    assert status == 200 and clock["frozen"] is True
    assert status_of(mock_server, job) == "completed"
    assert mock_server_session.clock.frozen is False
    status, found = call("GET", mock_server.url + "/_mock/requests/count?method=GET")
    assert found == {"count": 1}
''')
    result.assert_outcomes(passed=1)


def test_ini_options_configure_the_server(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
[pytest]
mock_server_seed = 42
mock_server_speed = 60
mock_server_frozen = true
""")
    result = _run(pytester, '''
def test_options(mock_server, mock_server_session):
    assert mock_server_session.settings.seed == 42
    assert mock_server.clock.speed == 60 and mock_server.clock.frozen
''')
    result.assert_outcomes(passed=1)


def test_config_file_option_is_read_relative_to_the_rootdir(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", mock="journal_size: 7\nseed: 3\n")
    pytester.makepyprojecttoml("""
[tool.pytest.ini_options]
mock_server_config = "mock.yaml"
mock_server_seed = "5"
""")
    result = _run(pytester, '''
def test_options(mock_server_session):
    assert mock_server_session.settings.journal_size == 7
    assert mock_server_session.settings.seed == 5  # the ini option wins over the file
''')
    result.assert_outcomes(passed=1)


def test_bad_ini_option_is_named(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
[pytest]
mock_server_speed = fast
""")
    result = _run(pytester, '''
def test_options(mock_server):
    pass
''')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ini option mock_server_speed: speed must be float*'fast'*"])


def test_options_show_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*mock_server_config*", "*mock_server_fixtures*",
                                 "*mock_server_seed*", "*mock_server_speed*",
                                 "*mock_server_frozen*"])


def test_namespace_names_are_url_safe_and_distinct() -> None:
    a = namespace_for("tests/test_x.py::test_y[a b/c]", "gw1")
    b = namespace_for("tests/test_z.py::test_y[a b/c]", "gw1")
    assert a != b and a.startswith("gw1-test_y-a-b-c")
    assert all(ch.isalnum() or ch in "-_." for ch in a)


def test_context_manager_has_the_same_conveniences() -> None:
    with MockServer(Settings(port=0, frozen=True)) as server:
        ns = server.namespace("script")
        assert ns.url == server.url + "/_ns/script"
        token = server.token("acme", test=False)
        req = urllib.request.Request(server.url + "/api/application", headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.loads(resp.read())["data"]["meta"]["mode"] == "live"
        assert ns.clock is not server.clock
        ns.clock.advance(30)
        assert ns.clock.now() == pytest.approx(server.clock.now() + 30)
        ns.close()
        assert server.clock.of("script") is server.clock
