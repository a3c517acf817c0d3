"""Refresh the dashboard screenshot in the README: `python docs/screenshots.py`.

Starts a mock on the built-in demo organization, creates a few jobs in different states, opens
/_mock/ in Debian's headless Chromium (Playwright, no browser download) and writes
docs/dashboard.png."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_server import MockServer, Settings  # noqa: E402
from tests.fixtures.browser import CHROMIUM, FLAGS  # noqa: E402
from tests.fixtures.http import JSONAPI, START_ISO, make_token  # noqa: E402

CL = {"Authorization": f"Bearer {make_token()}", "Accept": JSONAPI, "Content-Type": JSONAPI}


def _create(url: str, kind: str, scenario: str | None = None, **attrs: object) -> str:
    headers = dict(CL, **({"X-Mock-Scenario": scenario} if scenario else {}))
    body = {"data": {"type": kind, "attributes": {"resource_type": "skus", **attrs}}}
    r = requests.post(f"{url}/api/{kind}", headers=headers, data=json.dumps(body), timeout=10)
    r.raise_for_status()
    return str(r.json()["data"]["id"])


def main() -> None:
    """Seed a small story, then photograph the page."""
    from playwright.sync_api import sync_playwright

    with MockServer(Settings(port=0, frozen=True, start=START_ISO)) as s:
        rows = [{"code": f"DEMO-{i:02d}", "name": f"Demo item {i}"} for i in range(40)]
        _create(s.url, "imports", inputs=rows)
        _create(s.url, "exports", scenario="fail_at=50")
        requests.post(f"{s.url}/_mock/clock", json={"advance": "PT10M"}, timeout=10)
        _create(s.url, "imports", scenario="interrupt_at=40", inputs=rows)
        _create(s.url, "cleanups", scenario="stall=30")
        _create(s.url, "exports")
        requests.post(f"{s.url}/_mock/clock", json={"advance": 20}, timeout=10)
        _create(s.url, "imports", inputs=rows[:5])
        requests.post(f"{s.url}/_mock/faults", timeout=10,
                      json={"path": "/api/exports*", "method": "GET", "status": 503, "times": 3})
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 820})
            page.goto(f"{s.url}/_mock/")
            page.locator("#jobs tbody tr").nth(4).wait_for()
            page.locator("#jobs tbody tr").nth(1).click()
            page.locator("#detail-body").wait_for()
            out = ROOT / "docs" / "dashboard.png"
            page.screenshot(path=str(out))
            browser.close()
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
