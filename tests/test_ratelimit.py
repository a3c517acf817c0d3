"""The vendor's rate limits: sliding windows on the virtual clock, per organization, off by default."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.cli import build_parser
from mock_server.qa.ratelimit import Limits, RateLimiter, SlidingLog, Window, check_windows
from mock_server.serving import settings_from_args
from mock_server.settings import ConfigError, Settings

from .fixtures.http import JSONAPI, make_token
from .fixtures.qa import served

INPUT = [{"code": "A", "name": "a"}]
IMPORT = {"data": {"type": "imports", "attributes": {"resource_type": "skus", "inputs": INPUT}}}


def client(org: str = "acme", test: bool = True, **headers: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {make_token(org, test=test)}", "Accept": JSONAPI,
                      "Content-Type": JSONAPI, **headers})
    return s


def limits(r: requests.Response) -> tuple[int, int, int]:
    h = r.headers
    return (int(h["X-Ratelimit-Limit"]), int(h["X-Ratelimit-Interval"]),
            int(h["X-Ratelimit-Remaining"]))


# ---- windows ---------------------------------------------------------------------------------


def test_sliding_window_admits_limit_then_frees_as_requests_age() -> None:
    log, window = SlidingLog(), Window(3, 10)
    seen = [check_windows([(log, window)], t) for t in (0, 1, 2, 3)]
    assert [v.allowed for v in seen] == [True, True, True, False]
    assert [v.remaining for v in seen[:3]] == [2, 1, 0]
    assert seen[3].retry_after == 7  # the request at t=0 leaves the window at t=10
    assert not check_windows([(log, window)], 9.99).allowed
    assert check_windows([(log, window)], 10).allowed  # slides: one slot, not a full reset
    assert not check_windows([(log, window)], 10.5).allowed


def test_tightest_window_is_reported_and_refusal_counts_nothing() -> None:
    wide, narrow = (SlidingLog(), Window(100, 60)), (SlidingLog(), Window(2, 10))
    first = check_windows([wide, narrow], 0)
    assert (first.limit, first.remaining) == (2, 1)
    check_windows([wide, narrow], 0)
    assert not check_windows([wide, narrow], 0).allowed
    assert len(wide[0].times) == 2  # the refused request used no slot


def test_test_mode_gets_half_and_classes_are_separate() -> None:
    limiter = RateLimiter(enabled=True)
    check = limiter.check
    live = check("ns", "/api/imports", "POST", "POST /api/imports", "acme", "live", "ip", 0)
    test = check("ns", "/api/imports", "POST", "POST /api/imports", "acme", "test", "ip", 0)
    get = check("ns", "/api/imports", "GET", "GET /api/imports", "acme", "test", "ip", 0)
    assert live is not None and test is not None and get is not None
    assert (live.limit, live.interval) == (50, 10)  # burst, uncacheable, live
    assert (test.limit, test.interval) == (25, 10)
    assert (get.limit, get.interval) == (125, 10)
    assert check("ns", "/v2/1/cleanups", "GET", "x", None, "test", "ip", 0) is None
    assert RateLimiter().check("ns", "/api/imports", "GET", "x", "acme", "test", "ip", 0) is None


def test_config_tunes_the_numbers_and_names_bad_keys() -> None:
    lim = Limits.from_config({"burst": {"uncacheable": {"limit": 4}}, "test_factor": 1},
                             "qa.yaml")
    assert lim.burst["uncacheable"] == Window(4, 10) and lim.test_factor == 1
    assert lim.average["cacheable"] == Window(1000, 60)
    with pytest.raises(ConfigError, match=r"qa.yaml: rate_limit.burst.fast"):
        Limits.from_config({"burst": {"fast": 3}}, "qa.yaml")
    with pytest.raises(ConfigError, match=r"qa.yaml: rate_limit.speed"):
        Limits.from_config({"speed": 3}, "qa.yaml")


def test_flag_and_config_switch_it_on() -> None:
    args = build_parser().parse_args(["serve", "--rate-limits"])
    assert settings_from_args(args).rate_limits is True
    assert settings_from_args(build_parser().parse_args(["serve"])).rate_limits is False
    assert Settings.from_mapping({"rate_limits": True}).rate_limits is True


# ---- over HTTP -------------------------------------------------------------------------------


def test_off_by_default_no_headers_no_429() -> None:
    with served() as (server, _):
        s = client()
        answers = [s.get(server.url + "/api/imports") for _ in range(130)]
        assert {a.status_code for a in answers} == {200}
        assert "X-Ratelimit-Limit" not in answers[-1].headers


def test_burst_per_endpoint_then_average_per_class_on_the_virtual_clock() -> None:
    with served(rate_limits=True, limits=False) as (server, _):
        s, url = client(), server.url + "/api/imports"
        first = s.post(url, json=IMPORT)
        assert first.status_code == 201 and limits(first) == (25, 10, 24)  # test mode: half
        for _ in range(24):
            assert s.post(url, json=IMPORT).status_code == 201
        refused = s.post(url, json=IMPORT)
        assert refused.status_code == 429 and limits(refused) == (25, 10, 0)
        assert refused.headers["Content-Type"].startswith(JSONAPI)
        assert refused.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
        assert refused.json()["errors"][0]["status"] == "429"
        server.clock.advance(10)  # the burst window slides past the first 25
        for _ in range(3):  # bursts 2..4: 100 uncacheable requests in 40 s
            for _ in range(25):
                assert s.post(url, json=IMPORT).status_code == 201
            server.clock.advance(10)
        average = s.post(url, json=IMPORT)  # burst window empty, the minute is full
        assert average.status_code == 429 and limits(average)[:2] == (100, 60)
        assert int(average.headers["Retry-After"]) == 20  # t=40; the t=0 burst leaves at 60
        assert s.get(url).status_code == 200  # cacheable is another class
        server.clock.advance(20)
        assert s.post(url, json=IMPORT).status_code == 201


def test_live_mode_other_organizations_and_namespaces_count_apart() -> None:
    with served(rate_limits=True) as (server, _):
        url = server.url + "/api/exports"
        for _ in range(125):
            assert client().get(url).status_code == 200
        assert client().get(url).status_code == 429
        assert client().get(server.url + "/api/imports").status_code == 200  # another endpoint
        assert limits(client(test=False).get(url))[:2] == (250, 10)
        assert client("globex").get(url).status_code == 200
        assert client(**{"X-Mock-Namespace": "ci-2"}).get(url).status_code == 200


def test_token_endpoint_and_admin_api() -> None:
    with served(rate_limits=True) as (server, _):
        body = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
        codes = [requests.post(server.url + "/oauth/token", json=body).status_code
                 for _ in range(31)]
        assert codes == [200] * 30 + [429]  # notes: commercelayer_api.md §3, 30 per minute
        admin = [requests.get(server.url + "/_mock/clock") for _ in range(300)]
        assert {a.status_code for a in admin} == {200}
        assert "X-Ratelimit-Limit" not in admin[-1].headers
        rs = requests.get(server.url + "/v2/123456/cleanups", headers={"X-Auth-Token": "t"})
        assert rs.status_code == 200 and "X-Ratelimit-Limit" not in rs.headers


def test_switched_on_and_off_through_the_admin_api() -> None:
    with served() as (server, _):
        r = requests.put(server.url + "/_mock/rate_limits", json={"enabled": True})
        assert r.status_code == 200 and r.json()["enabled"] is True
        assert limits(client().get(server.url + "/api/imports"))[0] == 125
        state: dict[str, Any] = requests.get(server.url + "/_mock/rate_limits").json()
        assert state["burst"]["cacheable"] == {"limit": 250, "interval": 10}
        requests.put(server.url + "/_mock/rate_limits", json={"enabled": False})
        assert "X-Ratelimit-Limit" not in client().get(server.url + "/api/imports").headers
        r = requests.put(server.url + "/_mock/rate_limits", json={"enabled": "yes"})
        assert r.status_code == 422
