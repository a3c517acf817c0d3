"""Organization fixtures: a YAML file → a checked Fixture → the records and past jobs of a tenant.

A bad file fails at start-up (create_app) with the file, the path inside it and what is wrong:
the YAML is checked against data/fixture.schema.yaml, record types and attributes against the
catalog, job attributes against the spec's create schemas, and then every job is created once in
a scratch organization, so a filter that matches nothing or a bad `fields` path fails now.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ...domain.errors import JSONAPI, MockError
from ...domain.store import IdSequence, Tenant
from ...scenarios.attach import attach
from ...scenarios.scenario import Scenario, ScenarioError, parse
from ...settings import ConfigError
from ...spec.load import Spec
from ...timefmt import cl_time, parse_duration, parse_time
from ...validation import body_errors
from .. import DuplicateKey, generate_org, validate_item
from .org import ORG_SALT, Backend, OrgRecords, packaged_catalog
from .part import create_job
from .settle import settle

BUILT_IN = "data/demo.yaml"  # inside the package, so an installed wheel has it too
SCENARIO_KEYS = ("interrupt_at", "fail_at", "stall", "error_rate", "outcome", "fail_message",
                 "durations")
_CREATE_OPS = {"imports": "createImport", "exports": "createExport", "cleanups": "createCleanup"}
_STAMPS = ("id", "created_at", "updated_at")
_SPACING = 60.0  # seconds between generated records' created_at (records/fake.py _STEP)


class FixtureError(ConfigError):
    """A fixture that cannot be used; the message names the file, the path and the problem."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One past job of a fixture: when (relative to the organization's first use) and how."""

    where: str  # "jobs[3]", for error messages
    kind: str
    offset: float  # seconds, <= 0
    attributes: Mapping[str, Any]
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class Fixture:
    """A checked fixture: template records (never mutated) and past jobs, oldest first."""

    source: str
    records: Mapping[str, list[dict[str, Any]]]
    jobs: tuple[JobSpec, ...]
    jobs_for: tuple[str, ...]

    def has_jobs_for(self, org: str) -> bool:
        """Whether the organization `org` gets the past jobs."""
        return bool(self.jobs) and any(fnmatch.fnmatchcase(org, p) for p in self.jobs_for)


def default_epoch(now: float) -> float:
    """Midnight UTC 30 days before `now`: generated records are older than any client's."""
    return math.floor(now / 86_400) * 86_400 - 30 * 86_400


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    text = resources.files("mock_server").joinpath("data/fixture.schema.yaml").read_text("utf-8")
    return Draft202012Validator(yaml.safe_load(text))


_FRIENDLY = {"created": "must be like -1h, -90m, -1h30m, -45s, -2d, -PT1H30M or now",
             "epoch": "must be an ISO-8601 instant such as 2026-01-01T00:00:00Z"}


def _check_schema(source: str, data: Any) -> None:
    err = best_match(_validator().iter_errors(data))
    if err is None:
        return
    path = list(err.absolute_path)
    message = err.message
    if err.validator == "pattern" and path and path[-1] in _FRIENDLY:
        message = f"{err.instance!r} {_FRIENDLY[str(path[-1])]}"
    raise FixtureError(f"{source}: {_where(path)}: {message}")


def _plain(value: Any) -> Any:
    """YAML reads unquoted timestamps as datetimes; the API (and the schema) speak ISO strings."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return cl_time(value.timestamp())
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read(path: str | None) -> tuple[str, str]:
    if path is None:
        return (f"mock_server/{BUILT_IN} (built-in demo)",
                resources.files("mock_server").joinpath(BUILT_IN).read_text("utf-8"))
    try:
        with open(path, encoding="utf-8") as fh:
            return path, fh.read()
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the fixture file: {exc.strerror}") from None


def _offset(source: str, where: str, text: str) -> float:
    if text == "now":
        return 0.0
    if text.startswith("-P"):
        try:
            return -parse_duration(text[1:])
        except ValueError as exc:
            raise FixtureError(f"{source}: {where}.created: {exc}") from None
    units = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
    return -sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([dhms])", text))


def _job(source: str, spec: Spec, index: int, raw: Mapping[str, Any]) -> JobSpec:
    where = f"jobs[{index}]"
    kind = str(raw["type"])
    attrs = dict(raw["attributes"])
    validator = spec.operations[_CREATE_OPS[kind]].body_media[JSONAPI]
    problems = body_errors(validator, {"data": {"type": kind, "attributes": attrs}})
    if problems:
        raise _job_error(source, where, problems[0])
    try:
        scenario = parse({k: raw[k] for k in SCENARIO_KEYS if k in raw})
    except ScenarioError as exc:
        raise FixtureError(f"{source}: {where}.{exc.key or 'scenario'}: {exc}") from None
    return JobSpec(where, kind, _offset(source, where, str(raw.get("created", "now"))), attrs,
                   scenario)


def _job_error(source: str, where: str, err: MockError) -> FixtureError:
    pointer = (err.pointer or "").removeprefix("/data").strip("/")
    inside = ".".join(p for p in pointer.split("/") if p)
    return FixtureError(f"{source}: {where}{'.' + inside if inside else ''}: {err.detail}")


@lru_cache(maxsize=8)  # every test server of a run builds the same demo: generate it once
def _generated(seed: int, epoch: float, counts: tuple[tuple[str, int], ...]
               ) -> dict[str, list[dict[str, Any]]]:
    """Faker records (shared: callers copy them before use)."""
    return generate_org(packaged_catalog(), seed, ORG_SALT, epoch=epoch, counts=dict(counts))


def _records(source: str, backend: Backend, epoch: float, generate: Mapping[str, int],
             explicit: Mapping[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    catalog = backend.catalog
    for section, names in (("generate", generate), ("records", explicit)):
        for name in names:
            if name not in catalog:
                raise FixtureError(f"{source}: {section}.{name}: unknown record type; known: "
                                   f"{', '.join(sorted(catalog.types))}")
    for name, count in generate.items():
        rtype = catalog[name]
        for rel in rtype.must_exist:
            attr, target = rtype.foreign_keys[rel][0], rtype.relationships[rel]
            if count and attr in rtype.required and not generate.get(target):
                raise FixtureError(f"{source}: generate.{name}: {name} need a {rel} ({attr}) "
                                   f"but no {target} are generated; generate some {target} too")
    counts = tuple((name, int(generate.get(name, 0))) for name in catalog.types)
    store = OrgRecords(catalog, seed=backend.settings.seed)
    for name, recs in _generated(backend.settings.seed, epoch, counts).items():
        store.load(name, copy.deepcopy(recs))
    at = cl_time(epoch + sum(n for _, n in counts) * _SPACING) or ""  # after the generated
    for name in catalog.dependency_order():  # targets first, so references resolve
        rtype = catalog[name]
        for i, item in enumerate(explicit.get(name) or ()):
            where = f"{source}: records.{name}[{i}]"
            unknown = sorted(set(item) - set(rtype.attributes) - set(_STAMPS))
            if unknown:
                raise FixtureError(f"{where}.{unknown[0]}: {name} have no attribute "
                                   f"{unknown[0]!r}; known: {', '.join(rtype.attributes)}")
            errors = validate_item(rtype, item, store)
            if errors:
                said = "; ".join(f"{k} {', '.join(v)}" for k, v in errors.items())
                raise FixtureError(f"{where}: {said}")
            try:
                record, _ = store.upsert(name, item, at)
            except DuplicateKey as exc:
                raise FixtureError(f"{where}: {exc}") from None
            for stamp in ("created_at", "updated_at"):
                if stamp in item:
                    try:
                        record[stamp] = cl_time(parse_time(str(item[stamp])))
                    except ValueError:
                        raise FixtureError(f"{where}.{stamp}: not an ISO-8601 instant: "
                                           f"{item[stamp]!r}") from None
    return {name: store.list(name) for name in catalog.types}


@lru_cache(maxsize=8)  # every test server of a run reads the same demo: parse it once
def _parsed(source: str, text: str) -> dict[str, Any]:
    """The YAML document, checked against the schema (shared: callers never change it)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FixtureError(f"{source}: not valid YAML: {exc}") from None
    data = {} if data is None else _plain(data)
    _check_schema(source, data)
    return data  # type: ignore[no-any-return]


def load_fixture(path: str | None, backend: Backend, spec: Spec) -> Fixture:
    """Read and check a fixture file (None: the built-in demo); FixtureError says what is wrong."""
    source, text = _read(path)
    data = _parsed(source, text)
    epoch = parse_time(data["epoch"]) if "epoch" in data else default_epoch(backend.clock.now())
    records = _records(source, backend, epoch, data.get("generate") or {},
                       data.get("records") or {})
    specs = [_job(source, spec, i, raw) for i, raw in enumerate(data.get("jobs") or ())]
    fixture = Fixture(source, records, tuple(sorted(specs, key=lambda j: j.offset)),
                      tuple(data.get("jobs_for") or ("*",)))
    # Create every job once in a scratch organization, so what only shows when a job is made
    # (a filter matching nothing, a bad export path, a scenario too late) fails at start-up.
    probe = Tenant(("<fixture check>", "cl", "probe", "test"), IdSequence(backend.settings.seed))
    populate(backend, fixture, probe, backend.clock.now(), jobs=True)
    return fixture


def populate(backend: Backend, fixture: Fixture, tenant: Tenant, now: float, jobs: bool) -> None:
    """Give a new tenant the fixture's records and (if `jobs`) its past jobs, created in order."""
    records = OrgRecords(backend.catalog, seed=backend.settings.seed)
    for name, recs in fixture.records.items():
        records.load(name, recs)  # shared with every tenant until written (RecordStore.load)
    tenant.records = records
    if not jobs:
        return
    for job_spec in fixture.jobs:
        at = now + job_spec.offset
        settle(backend, tenant, at)  # earlier jobs' effects first: an export sees an import's
        try:
            job = create_job(backend, tenant, job_spec.kind,
                             copy.deepcopy(dict(job_spec.attributes)), at)
            if not job_spec.scenario.empty:
                attach(tenant, job, job_spec.scenario, at)
        except MockError as err:
            raise _job_error(fixture.source, job_spec.where, err) from None
        except ScenarioError as exc:
            raise FixtureError(f"{fixture.source}: {job_spec.where}.{exc.key or 'scenario'}: "
                               f"{exc}") from None


def revive_tenant(backend: Backend, tenant: Tenant) -> None:
    """Store reviver: a Commerce Layer tenant restored from storage gets empty records (its
    stored ones are loaded into them)."""
    if len(tenant.key) >= 4 and tenant.key[1] == "cl":
        tenant.records = OrgRecords(backend.catalog, seed=backend.settings.seed)


def load_tenant(backend: Backend, fixture: Fixture, tenant: Tenant) -> None:
    """Store loader: a new Commerce Layer tenant gets the fixture (Rackspace ones get nothing)."""
    if len(tenant.key) < 4 or tenant.key[1] != "cl":
        return
    namespace, _, org = tenant.key[:3]
    populate(backend, fixture, tenant, backend.clock.now(namespace), fixture.has_jobs_for(org))
