"""Fixtures for the mock's own tests live in tests/fixtures/, loaded as plugins."""

pytest_plugins = ["tests.fixtures.http", "tests.fixtures.qa", "tests.fixtures.records"]
