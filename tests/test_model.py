"""domain/model.py: job types read from the spec, and the lifecycle tables checked against it."""

from __future__ import annotations

import copy

import pytest

from mock_server.domain.lifecycle import LIFECYCLES
from mock_server.domain.model import SpecMismatch, load_types
from mock_server.spec.load import Spec


def test_every_job_type_of_both_vendors_is_read_from_the_spec() -> None:
    types = load_types(Spec.from_file())
    assert set(types) == set(LIFECYCLES)
    imports = types["imports"]
    assert imports.initial_status == "pending"
    assert set(LIFECYCLES["imports"].statuses) <= set(imports.statuses)
    assert {"resource_type", "inputs"} <= set(imports.creatable)
    assert "_interrupt" in imports.triggers and "_interrupt" not in imports.updatable
    assert "metadata" in imports.object_attributes
    rackspace = types["rackspace_cleanups"]
    assert rackspace.triggers == () and "state" in rackspace.updatable


def test_a_status_the_spec_does_not_know_stops_the_start() -> None:
    spec = Spec.from_file()
    doc = copy.deepcopy(dict(spec.doc))
    status = doc["components"]["schemas"]["Export"]["properties"]["attributes"]["properties"]
    status["status"] = {**status["status"], "enum": ["pending", "in_progress", "completed"]}
    with pytest.raises(SpecMismatch, match="interrupted"):
        load_types(Spec(doc))
