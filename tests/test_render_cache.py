"""The render cache: a rendering of an ended job holds while its version, link window and the
store's generation do, and the cache stays bounded."""

from __future__ import annotations

from mock_server.domain import jobs
from mock_server.domain.lifecycle import LIFECYCLES, Plan
from mock_server.domain.store import Job, Store, Tenant
from mock_server.render_cache import RenderCache, Stamp

KEY = ("ns", "cl", "acme", "test")
LC = LIFECYCLES["exports"]


def _ended(tenant: Tenant) -> Job:
    job = tenant.add(Job(tenant.new_id(), "exports", 0.0, Plan.timed(0.0, (1.0, 2.0), total=3), {}, 0.0))
    job.version = 1
    return job


def _stamp(store: Store, tenant: Tenant, job: Job, now: float) -> Stamp | None:
    return Stamp.of(store, tenant, job, jobs.view(LC, job, now), now)


def test_a_running_job_gets_no_stamp() -> None:
    store = Store(seed=1)
    tenant = store.tenant(KEY)
    assert _stamp(store, tenant, _ended(tenant), 1.5) is None


def test_a_rendering_holds_until_the_job_changes_or_goes() -> None:
    store = Store(seed=1)
    tenant = store.tenant(KEY)
    job = _ended(tenant)
    cache = RenderCache(store)
    stamp = _stamp(store, tenant, job, 10.2)
    assert stamp is not None
    cache.put("k", stamp, b"body")
    assert cache.get("k", 10.7) == b"body"
    found = cache.entry("k")
    assert found is not None and found[0].namespace == "ns" and found[1] == b"body"
    jobs.change(tenant, job, 10.8, fields={"reference": "r"})
    assert cache.get("k", 10.8) is None and len(cache) == 0
    cache.put("k", _stamp(store, tenant, job, 10.8), b"again")  # type: ignore[arg-type]
    jobs.delete(tenant, LC, job, 10.9)
    assert cache.get("k", 10.9) is None


def test_a_rendering_holds_within_its_link_window_and_not_before_the_end() -> None:
    store = Store(seed=1)
    tenant = store.tenant(KEY)
    job = _ended(tenant)
    cache = RenderCache(store)
    cache.put("k", _stamp(store, tenant, job, 3.0), b"body")  # type: ignore[arg-type]
    assert cache.get("k", 2.5) is None  # a namespace clock dropped back before the end
    cache.put("k", _stamp(store, tenant, job, 10.0), b"body")  # type: ignore[arg-type]
    assert cache.get("k", 9.5) == b"body"
    assert cache.get("k", 10.5) is None  # the next second signs its links again


def test_a_reset_drops_every_rendering() -> None:
    store = Store(seed=1)
    tenant = store.tenant(KEY)
    cache = RenderCache(store)
    cache.put("k", _stamp(store, tenant, _ended(tenant), 10.0), b"body")  # type: ignore[arg-type]
    store.clear("ns")
    assert cache.get("k", 10.0) is None and len(cache) == 0


def test_the_cache_is_bounded_oldest_first() -> None:
    store = Store(seed=1)
    tenant = store.tenant(KEY)
    cache = RenderCache(store, size=2)
    for name in "abc":
        cache.put(name, _stamp(store, tenant, _ended(tenant), 10.0), name)  # type: ignore[arg-type]
    assert cache.keys() == ["b", "c"]
