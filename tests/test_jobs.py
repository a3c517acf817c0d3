"""domain/jobs.py, the one door: creating, changing, interrupting, restarting and deleting a job,
each a new version on the change feed; what fails leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain import jobs
from mock_server.domain.changes import JobChanged
from mock_server.domain.errors import Unprocessable
from mock_server.domain.lifecycle import LIFECYCLES
from mock_server.domain.store import Job, Store, Tenant
from mock_server.settings import Settings

KEY = ("ns", "cl", "acme", "test")
LC = LIFECYCLES["exports"]
SETTINGS = Settings()


def _tenant() -> tuple[Tenant, list[JobChanged]]:
    store = Store(seed=3)
    seen: list[JobChanged] = []
    store.feed.subscribe(lambda c: seen.append(c) if isinstance(c, JobChanged) else None)
    return store.tenant(KEY), seen


def _launch(tenant: Tenant, now: float = 0.0, **kw: Any) -> Job:
    return jobs.launch(tenant, "exports", LC, SETTINGS, now, {"resource_type": "skus"}, 10, **kw)


def test_a_launched_job_is_stored_pending_and_published_at_version_1() -> None:
    tenant, seen = _tenant()
    job = _launch(tenant)
    assert tenant.get("exports", job.id) is job and job.version == 1
    assert jobs.view(LC, job, 0.0).status == "pending"
    assert [(c.job_id, c.version) for c in seen] == [(job.id, 1)]


def test_a_creation_hook_that_fails_leaves_nothing_behind() -> None:
    tenant, seen = _tenant()

    def refuse(tenant: Tenant, job: Job, context: dict[str, Any]) -> None:
        raise Unprocessable("no")

    with pytest.raises(Unprocessable):
        _launch(tenant, on_create=[refuse])
    assert tenant.count("exports") == 0 and seen == []


def test_capacity_counts_only_active_jobs() -> None:
    tenant, _ = _tenant()
    first = _launch(tenant, limit=1)
    with pytest.raises(Unprocessable, match="already 1 exports"):
        _launch(tenant, limit=1)
    end = first.plan.run_end
    assert _launch(tenant, end, limit=1).id != first.id  # the first one has ended


def test_every_change_is_a_new_version_and_user_fields_keep_their_history() -> None:
    tenant, seen = _tenant()
    job = _launch(tenant)
    jobs.change(tenant, job, 1.0, fields={"reference": "a"})
    jobs.change(tenant, job, 2.0, fields={"reference": "b"})
    assert job.version == 3 and [c.version for c in seen] == [1, 2, 3]
    assert [changed for _, changed in job.changes or []] == [{"reference": [None, "a"]},
                                                               {"reference": ["a", "b"]}]


def test_interrupt_then_restart_resumes_where_it_stopped() -> None:
    tenant, _ = _tenant()
    job = _launch(tenant)
    halfway = job.plan.instant_of(0.5)
    jobs.interrupt(tenant, LC, job, halfway)
    stopped = jobs.view(LC, job, halfway + 100)
    assert stopped.status == "interrupted" and stopped.processed == 5
    with pytest.raises(Unprocessable, match="only allowed while the job is pending"):
        jobs.interrupt(tenant, LC, job, halfway + 100)
    jobs.restart(tenant, LC, job, SETTINGS, halfway + 100)
    done = jobs.view(LC, job, job.plan.run_end)
    assert done.status == "completed" and done.processed == 10
    assert [s for s, _ in done.transitions] == ["pending", "in_progress", "interrupted",
                                                "pending", "in_progress", "completed"]


def test_a_running_job_cannot_be_deleted_an_ended_one_can() -> None:
    tenant, seen = _tenant()
    job = _launch(tenant)
    with pytest.raises(Unprocessable, match="interrupt it"):
        jobs.delete(tenant, LC, job, 0.0)
    jobs.delete(tenant, LC, job, job.plan.run_end)
    assert tenant.get("exports", job.id) is None
    assert seen[-1].deleted and seen[-1].version == job.version + 1


@pytest.mark.parametrize("size, words", [(0, "greater than 0"), (11, "less than or equal to 10")])
def test_job_sizes_are_checked_in_the_vendors_words(size: int, words: str) -> None:
    with pytest.raises(Unprocessable, match=words):
        jobs.check_size("exports", size, 10)
