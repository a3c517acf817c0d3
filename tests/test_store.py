"""Store and tenants: ids sort in creation order, tenants load once, namespaces clear alone."""

from __future__ import annotations

from mock_server.domain.lifecycle import Plan
from mock_server.domain.store import IdSequence, Job, Store, Tenant

KEY = ("ns", "cl", "acme", "test")


def _job(tenant: Tenant, kind: str = "imports") -> Job:
    return tenant.add(Job(tenant.new_id(), kind, 0.0, Plan.timed(0.0, (1.0, 1.0)), {}, 0.0))


def test_ids_sort_in_creation_order_and_are_seeded() -> None:
    a, b = Tenant(KEY, IdSequence(1)), Tenant(KEY, IdSequence(1))
    ids = [_job(a).id for _ in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200
    assert ids == [_job(b).id for _ in range(200)]
    assert Tenant(KEY, IdSequence(2)).new_id() != ids[0]


def test_ids_are_never_reused_across_tenants_namespaces_and_clears() -> None:
    store = Store(seed=1)
    keys = [KEY, ("other", "cl", "acme", "test"), ("ns", "cl", "beta", "test"), ("ns", "rs", "1")]
    seen: list[str] = []
    for _ in range(3):
        for key in keys:
            tenant = store.tenant(key)
            seen += [tenant.new_id(rackspace=key[1] == "rs") for _ in range(5)]
        store.clear()
    assert len(set(seen)) == len(seen) == 60


def test_ids_grow_instead_of_wrapping_round() -> None:
    # 62**4 ids keep the vendor's 10 characters (and sort in creation order); later ones are longer.
    ids = IdSequence(1, issued=62**4 - 2)
    a, b = ids.next(KEY), ids.next(KEY)
    assert (a[:4], len(a)) == ("zzzz", 10) and (b[:5], len(b)) == ("10000", 11)


def test_get_remove_and_order() -> None:
    tenant = Tenant(KEY, IdSequence(1))
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
