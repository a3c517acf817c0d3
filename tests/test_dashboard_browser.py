"""The dashboard at /_mock/ in a real headless Chromium: what QA sees and clicks, checked against
what the API answers afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server import MockServer, Settings

from .fixtures.http import JSONAPI, START_ISO, make_token

CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}
WAIT = 15_000  # ms a page may take to show something (a bound on failure, not a pace)


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, frozen=True, start=START_ISO)) as s:
        yield s


@pytest.fixture
def page(browser: Any, server: MockServer) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.errors = []  # console errors and uncaught exceptions
    opened.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: opened.errors.append(str(exc)))
    opened.set_default_timeout(WAIT)
    opened.goto(f"{server.url}/_mock/")
    yield opened
    context.close()


def _create(server: MockServer, kind: str, **attrs: Any) -> dict[str, Any]:
    body = {"data": {"type": kind, "attributes": {"resource_type": "skus", **attrs}}}
    r = requests.post(f"{server.url}/api/{kind}", headers=CL, data=json.dumps(body), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


def _status(server: MockServer, kind: str, job_id: str) -> str:
    r = requests.get(f"{server.url}/api/{kind}/{job_id}", headers=CL, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]["attributes"]["status"]  # type: ignore[no-any-return]


def _row(page: Any, job_id: str) -> Any:
    return page.locator(f'#jobs tr[data-id="{job_id}"]')


def test_the_page_loads_clean_and_shows_a_job_created_through_the_api(page: Any,
                                                                      server: MockServer) -> None:
    page.wait_for_selector("#now:not(:text('…'))")
    assert page.locator("#now").inner_text().startswith("2026-01-01 00:00:00")
    job = _create(server, "imports", inputs=[{"code": "B1", "name": "Browser 1"}])
    row = _row(page, job["id"])
    row.wait_for()  # live: no reload
    assert "pending" in row.locator(".status").inner_text()
    assert page.errors == []


def test_advancing_the_clock_from_the_page_completes_the_job(page: Any,
                                                             server: MockServer) -> None:
    job = _create(server, "imports", inputs=[{"code": "B2", "name": "Browser 2"}])
    _row(page, job["id"]).wait_for()
    page.get_by_role("button", name="+1 h").click()
    done = _row(page, job["id"]).locator(".s-completed")
    done.wait_for()
    bar = _row(page, job["id"]).locator("[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "100"
    assert _status(server, "imports", job["id"]) == "completed"
    assert page.locator("#now").inner_text().startswith("2026-01-01 01:00:00")
    assert page.errors == []


def test_a_jobs_detail_shows_it_as_the_api_does_with_its_events_and_requests(
        page: Any, server: MockServer) -> None:
    job = _create(server, "imports", inputs=[{"code": "B3", "name": "Browser 3"}])
    server.clock.advance(3600)
    r = requests.get(f"{server.url}/api/imports/{job['id']}", headers=CL, timeout=10)
    api = r.json()["data"]["attributes"]
    _row(page, job["id"]).click()
    shown = page.locator("#d-attributes").filter(has_text='"completed"')
    shown.wait_for()
    assert json.loads(shown.inner_text()) == api
    events = page.locator("#d-events tr")
    # cell by cell: a live refresh replaces the rows, and a replaced row's text runs together
    assert [t.strip() for t in events.first.locator("td").all_text_contents()[:2]] == [
        "create", "pending"]
    assert [t.strip() for t in events.last.locator("td").all_text_contents()[:2]] == [
        "complete", "completed"]
    page.locator("#d-requests tr").filter(has_text="POST").wait_for()  # its create
    assert page.locator("#d-requests tr").filter(has_text="GET").count() == 1
    assert page.errors == []


def test_fail_at_50_from_the_page_makes_the_api_answer_failed(page: Any,
                                                              server: MockServer) -> None:
    job = _create(server, "exports")
    _row(page, job["id"]).click()
    page.locator("#d-title").filter(has_text=job["id"]).wait_for()
    page.fill("#c-fail", "50")
    page.get_by_role("button", name="Fail").click()
    page.locator("#d-json").filter(has_text='"fail_at"').wait_for()
    page.get_by_role("button", name="+1 h").click()
    _row(page, job["id"]).locator(".s-failed").wait_for()
    assert _status(server, "exports", job["id"]) == "failed"
    # a refusal is shown as the API words it: the job has ended
    page.get_by_role("button", name="Interrupt").click()
    page.locator("#job-error").filter(has_text="409").wait_for()
    assert [e for e in page.errors if "status of 409" not in e] == []  # the refused call only


def test_a_fault_rule_added_from_the_page_makes_the_next_call_fail(page: Any,
                                                                   server: MockServer) -> None:
    page.fill("#fa-path", "/api/exports*")
    page.select_option("#fa-method", "GET")
    page.fill("#fa-status", "503")
    page.fill("#fa-times", "1")
    page.get_by_role("button", name="Add").click()
    page.locator("#faults tbody tr").filter(has_text="/api/exports*").wait_for()
    r = requests.get(f"{server.url}/api/exports", headers=CL, timeout=10)
    assert r.status_code == 503
    assert requests.get(f"{server.url}/api/exports", headers=CL, timeout=10).status_code == 200
    assert page.errors == []


def test_the_journal_shows_a_request_the_test_made(page: Any, server: MockServer) -> None:
    r = requests.get(f"{server.url}/api/imports?filter[q][reference_eq]=journal-probe",
                     headers=CL, timeout=10)
    assert r.status_code == 200
    entry = page.locator("#journal tbody tr").filter(has_text="/api/imports")
    entry.first.wait_for()
    entry.first.click()
    page.locator("#journal-body").filter(has_text="journal-probe").wait_for()
    from playwright.sync_api import expect

    assert requests.get(f"{server.url}/api/imports/nope", headers=CL, timeout=10).status_code == 404
    page.locator("#journal tbody tr").filter(has_text="/api/imports/nope").wait_for()
    page.select_option("#j-status", "4xx")
    shown = page.locator("#journal tbody tr")
    expect(shown).to_have_count(1, timeout=WAIT)  # the 200s are filtered out
    assert shown.locator("td").nth(3).inner_text() == "404"
    assert page.errors == []


def test_closing_the_server_ends_open_streams_at_once(browser: Any) -> None:
    server = MockServer(Settings(port=0, frozen=True, start=START_ISO))
    server.start()
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(f"{server.url}/_mock/")
    opened.wait_for_selector("#now:not(:text('…'))")
    # a stream still open would hold aiohttp's shutdown for its 60 s grace, and `stop` gives
    # up (TimeoutError) after 10 s
    server.stop()
    context.close()


def test_a_job_created_through_another_replica_appears(browser: Any, pg_url: str) -> None:
    settings = Settings(port=0, frozen=True, start=START_ISO, state=pg_url)
    with MockServer(settings) as one, MockServer(settings) as two:
        context = browser.new_context()
        opened = context.new_page()
        opened.set_default_timeout(WAIT)
        opened.goto(f"{one.url}/_mock/")
        job = _create(two, "imports", inputs=[{"code": "R1", "name": "Replica 1"}])
        _row(opened, job["id"]).wait_for()
        context.close()


def test_webhook_deliveries_show_up_as_the_clock_moves(page: Any, server: MockServer) -> None:
    inbox = f"{server.url}/_mock/webhooks/inbox/dashboard"
    r = requests.post(f"{server.url}/api/webhooks", headers=CL, timeout=10, json={"data": {
        "type": "webhooks", "attributes": {"topic": "imports.complete", "callback_url": inbox}}})
    assert r.status_code == 201, r.text
    job = _create(server, "imports", inputs=[{"code": "B9", "name": "Browser 9"}])
    _row(page, job["id"]).wait_for()
    page.get_by_role("button", name="+1 h").click()
    row = page.locator('#deliveries tr[data-topic="imports.complete"]')
    row.filter(has_text="delivered").wait_for()
    assert job["id"] in row.inner_text() and "204" in row.inner_text()
    assert requests.get(inbox, timeout=10).json()["count"] == 1
    assert page.errors == []
