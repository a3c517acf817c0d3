"""Fixtures for the mock's own tests live in tests/fixtures/, loaded as plugins."""

import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Every property test runs the same examples on every machine: derandomized (seeded from the
# test itself), no example database (nothing carried over from an earlier run), no deadline
# (a loaded CI machine is slow, and slowness is what benchmarks measure, not unit tests).
settings.register_profile("repeatable", derandomize=True, database=None, deadline=None)
settings.load_profile("repeatable")
# Its caches (derived from the source alone) stay out of the checkout.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "async-job-mock-hypothesis"))

pytest_plugins = ["tests.fixtures.http", "tests.fixtures.qa", "tests.fixtures.records",
                  "tests.fixtures.postgres", "tests.fixtures.browser", "tests.fixtures.webhooks"]
