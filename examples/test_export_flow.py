"""Testing our export client against the mock, with the `mock_server` fixture the package installs.

No conftest.py: `pip install async-job-mock` registers the plugin. Every test gets its own
namespace (its own jobs, scenarios, journal and clock), so these tests also pass with
`pytest -n 4`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from export_client import ExportClient, ExportFailed


@pytest.fixture
def client(mock_server):
    """Our client, pointed at this test's namespace of the mock."""
    return ExportClient(mock_server.url, mock_server.token(org="acme"))


def test_export_completes_and_its_file_downloads(mock_server, client):
    mock_server.clock.freeze()  # time moves only when the test says so
    export = client.start("skus")
    assert export.status == "pending"
    assert export.records_count > 0

    mock_server.clock.advance(timedelta(minutes=1))

    done = client.get(export.id)
    assert done.status == "completed"
    rows = client.download(done)
    assert len(rows) == done.records_count
    assert all(row["code"] for row in rows)


def test_failed_export_reaches_the_clients_error_path(mock_server, client):
    mock_server.scenario("exports", fail_at=50)  # every export this test starts fails halfway
    mock_server.clock.set_speed(1000)  # our client's own polling loop, 1000x faster

    with pytest.raises(ExportFailed, match="failed: RuntimeError: query timeout"):
        client.export("skus", interval=0.01)

    polls = mock_server.journal.count(method="GET", path="/api/exports/*")
    assert polls >= 1


def test_interrupted_export_is_reported_too(mock_server, client):
    mock_server.clock.freeze()
    export = client.start("skus")
    mock_server.scenario("exports", job=export.id, interrupt_at="in_progress")
    mock_server.clock.advance(60)

    with pytest.raises(ExportFailed, match="interrupted"):
        client.wait(export.id, sleep=lambda _: None)


@pytest.mark.parametrize("exports", [1, 2, 3])
def test_each_test_sees_only_its_own_exports(mock_server, client, exports):
    before = client.count()  # the organization's fixture may hold past exports
    for _ in range(exports):
        client.start("skus")
    assert client.count() == before + exports  # and none from the tests running beside it


def test_a_server_error_is_retried_by_nobody(mock_server, client):
    mock_server.faults.add(path="/api/exports", method="POST", status=503, times=1)
    with pytest.raises(Exception, match="503"):
        client.start("skus")
    assert client.start("skus").status == "pending"  # the rule fired once
