"""Store and tenants: ids sort in creation order, tenants load once, namespaces clear alone."""

from __future__ import annotations

from mock_server.lifecycle import Plan
from mock_server.store import Job, Store, Tenant


def _job(tenant: Tenant, kind: str = "imports") -> Job:
    return tenant.add(Job(tenant.new_id(), kind, 0.0, Plan(0.0, (1.0, 1.0)), {}, 0.0))


def test_ids_sort_in_creation_order_and_are_seeded() -> None:
    a, b = Tenant(("ns", "cl", "acme", "test"), seed=1), Tenant(("ns", "cl", "acme", "test"), seed=1)
    ids = [_job(a).id for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200
    assert ids == [_job(b).id for _ in range(200)]
    assert Tenant(("ns", "cl", "acme", "test"), seed=2).new_id() != ids[0]


def test_get_remove_and_order() -> None:
    tenant = Tenant(("ns", "cl", "acme", "test"), seed=1)
    first, second = _job(tenant), _job(tenant)
    assert tenant.get("imports", second.id) is second
    assert list(tenant.of("imports")) == [first.id, second.id]
    assert tenant.remove("imports", first.id) is first
    assert tenant.get("imports", first.id) is None and tenant.remove("imports", "nope") is None


def test_loader_runs_once_per_tenant_and_clear_is_per_namespace() -> None:
    loaded: list[tuple[str, ...]] = []
    store = Store(seed=1, loader=lambda t: loaded.append(t.key))
    one = store.tenant(("a", "cl", "acme", "test"))
    assert store.tenant(("a", "cl", "acme", "test")) is one
    store.tenant(("b", "cl", "acme", "test"))
    assert store.clear("a") == 1
    assert store.tenant(("a", "cl", "acme", "test")) is not one
    assert loaded == [("a", "cl", "acme", "test"), ("b", "cl", "acme", "test"), ("a", "cl", "acme", "test")]
    assert [t.key[0] for t in store.tenants("b")] == ["b"]
