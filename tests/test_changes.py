"""Change events: every change of a job, through any door (API, QA controls, the records
simulation, fixtures), is one new version published on the store's feed; clock moves too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server import MockServer
from mock_server.domain.changes import Change, ChangeFeed, ClockMoved, JobChanged
from mock_server.keys import CONTROLS, STORE

from .fixtures.qa import PROJECT, Jobs


@pytest.fixture
def changes(server: MockServer) -> Iterator[list[Change]]:
    seen: list[Change] = []
    unsubscribe = server.app[STORE].feed.subscribe(seen.append)
    yield seen
    unsubscribe()


def _versions(changes: list[Change], job_id: str) -> list[int]:
    return [c.version for c in changes if isinstance(c, JobChanged) and c.job_id == job_id]


def test_a_job_through_its_life_over_the_api(jobs: Jobs, server: MockServer,
                                             changes: list[Change]) -> None:
    job_id = jobs.create("exports")
    created = changes[-1]
    assert created == JobChanged("default", ("default", "cl", "acme", "test"), "exports", job_id,
                                 1, created.at)
    patch = {"data": {"type": "exports", "id": job_id, "attributes": {"reference": "r-2"}}}
    assert jobs.cl.patch(f"/api/exports/{job_id}", json=patch).status_code == 200
    patch["data"]["attributes"] = {"_interrupt": True}
    assert jobs.cl.patch(f"/api/exports/{job_id}", json=patch).status_code == 200
    patch["data"]["attributes"] = {"_start": True}
    assert jobs.cl.patch(f"/api/exports/{job_id}", json=patch).status_code == 200
    server.clock.advance(3600)
    assert jobs.read("exports", job_id)["status"] == "completed"
    assert jobs.cl.delete(f"/api/exports/{job_id}").status_code == 204
    assert _versions(changes, job_id) == [1, 2, 3, 4, 5]
    gone = [c for c in changes if isinstance(c, JobChanged) and c.job_id == job_id][-1]
    assert gone.deleted and not any(c.deleted for c in changes[:-1] if isinstance(c, JobChanged))


def test_a_refused_change_publishes_nothing(jobs: Jobs, changes: list[Change]) -> None:
    job_id = jobs.create("imports")
    assert jobs.cl.delete(f"/api/imports/{job_id}").status_code == 422  # still running
    assert _versions(changes, job_id) == [1]


def test_each_item_the_simulation_applies_is_a_version(jobs: Jobs, server: MockServer,
                                                      changes: list[Change]) -> None:
    job_id = jobs.create("imports")  # 20 items
    server.clock.advance(3600)
    assert jobs.read("imports", job_id)["handled"] == 20
    assert _versions(changes, job_id) == list(range(1, 22))


def test_qa_controls_change_jobs_through_the_same_door(jobs: Jobs, server: MockServer,
                                                       changes: list[Change]) -> None:
    controls = server.app[CONTROLS]
    job_id = jobs.create("cleanups")
    controls.scenario("cleanups", job_id, "stall=50")
    controls.scenario("cleanups", job_id, {}, release=True)
    controls.advance("cleanups", job_id, "in_progress")
    assert _versions(changes, job_id)[:4] == [1, 2, 3, 4]


def test_rackspace_creates_and_patches_are_versions(jobs: Jobs, changes: list[Change]) -> None:
    job_id = jobs.create("rackspace_cleanups")
    r = jobs.rs.patch(f"/v2/{PROJECT}/cleanups/{job_id}",
                      json=[{"op": "replace", "path": "/state", "value": "stop_requested"}],
                      headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 204
    assert _versions(changes, job_id) == [1, 2]
    assert changes[-1].tenant == ("default", "rs", PROJECT)  # type: ignore[union-attr]


def test_clock_moves_are_published_with_their_namespace(server: MockServer,
                                                        changes: list[Change]) -> None:
    controls = server.app[CONTROLS]
    controls.set_clock(advance=60)
    assert changes[-1] == ClockMoved(None, server.clock.now())
    handle = server.namespace("ci-7")
    handle.clock.freeze()
    handle.clock.advance(5)
    assert changes[-1] == ClockMoved("ci-7", handle.clock.now())
    assert [type(c) for c in changes] == [ClockMoved] * 3


def test_subscribers_can_leave() -> None:
    feed, seen = ChangeFeed(), []
    leave = feed.subscribe(seen.append)
    feed.publish(ClockMoved(None, 1.0))
    leave()
    feed.publish(ClockMoved(None, 2.0))
    assert seen == [ClockMoved(None, 1.0)]
