"""Store and tenants: ids sort in creation order, tenants load once, namespaces clear alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from mock_server import MockServer
from mock_server.domain.changes import JobChanged
from mock_server.domain.lifecycle import Plan
from mock_server.domain.store import IdSequence, Job, Store, Tenant, VersionConflict

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
    assert [j.id for j in tenant.scan("imports")] == [first.id, second.id]
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


class _Recording(Tenant):
    """A tenant that says what it was asked to store, as a durable implementation would write it."""

    log: list[tuple[str, str, int]] = []  # set to the store's

    def add(self, job: Job) -> Job:
        self.log.append(("add", job.id, job.version))
        return super().add(job)

    def put(self, job: Job, expected: int, counts_only: bool = False) -> None:
        super().put(job, expected, counts_only)
        self.log.append(("counts" if counts_only else "put", job.id, job.version))

    def remove(self, kind: str, job_id: str) -> Job | None:
        self.log.append(("remove", job_id, -1))
        return super().remove(kind, job_id)


class _RecordingStore(Store):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.log: list[tuple[str, str, int]] = []

    def new_tenant(self, key: tuple[str, ...]) -> Tenant:
        tenant = _Recording(key, self.ids, self.feed)
        tenant.log = self.log
        return tenant


@pytest.fixture
def recording() -> Iterator[tuple[MockServer, _RecordingStore]]:
    store = _RecordingStore(seed=1)
    with MockServer(store=store, frozen=True) as server:
        yield server, store


def test_a_store_behind_the_seam_sees_every_change_through_put(
        recording: tuple[MockServer, _RecordingStore]) -> None:
    server, store = recording
    seen: list[JobChanged] = []
    store.feed.subscribe(lambda c: seen.append(c) if isinstance(c, JobChanged) else None)
    headers = {"Authorization": f"Bearer {server.token()}",
               "Accept": "application/vnd.api+json", "Content-Type": "application/vnd.api+json"}
    url = f"{server.url}/api/imports"
    body = {"data": {"type": "imports", "attributes": {
        "resource_type": "skus", "inputs": [{"code": f"SEAM{i}", "name": "Seam"} for i in range(3)]}}}
    created = requests.post(url, json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["id"]
    patch = {"data": {"type": "imports", "id": job_id, "attributes": {"metadata": {"k": "v"}}}}
    assert requests.patch(f"{url}/{job_id}", json=patch, headers=headers,
                          timeout=10).status_code == 200
    server.clock.advance(600)
    got = requests.get(f"{url}/{job_id}", headers=headers, timeout=10).json()
    assert got["data"]["attributes"]["status"] == "completed"
    assert requests.delete(f"{url}/{job_id}", headers=headers, timeout=10).status_code == 204
    mine = [entry for entry in store.log if entry[1] == job_id]
    assert mine[0] == ("add", job_id, 0) and mine[-1] == ("remove", job_id, -1)
    puts = [version for kind, _, version in mine if kind in ("put", "counts")]
    assert puts == list(range(2, len(puts) + 2)) and len(puts) >= 2  # one put per new version
    # the patch changed the job; each processed input changed only its counts
    assert [kind for kind, _, _ in mine[1:-1]] == ["put", "counts", "counts", "counts"]
    published = [c.version for c in seen if c.job_id == job_id and not c.deleted]
    assert published == [1, *puts]  # what was published is what was stored


def test_put_refuses_a_job_that_is_gone() -> None:
    tenant = Store(seed=1).tenant(KEY)
    job = _job(tenant)
    tenant.remove("imports", job.id)
    with pytest.raises(VersionConflict):
        tenant.put(job, 0)


def test_packed_inputs_read_back_exactly_huge_numbers_and_lone_surrogates_included() -> None:
    from mock_server.domain.store import Fields

    big = [{"code": "A", "big": 123456789012345678901234567890, "n": 1.5}]
    fields = Fields.packing({"inputs": big, "reference": "r"})
    assert fields["inputs"] == big and fields["inputs"][0]["big"].__class__ is int
    assert fields["inputs"] is not fields["inputs"]  # a fresh copy on every read
    lone = [{"code": "B", "text": "\ud800"}]
    assert Fields.packing({"inputs": lone})["inputs"] == lone
