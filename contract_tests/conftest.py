"""pytest wiring: options → target (in-process mock when no URL), fixtures, test order.

Options (each also read from the environment): --base-url CONTRACT_BASE_URL, --token
CONTRACT_TOKEN, --client-id/--client-secret CONTRACT_CLIENT_ID/_SECRET, --token-url,
--rackspace-token CONTRACT_RACKSPACE_TOKEN, --project-id, --agent-id, --api, --max-examples,
--seed, --poll-budget (total real seconds of lifecycle polling), --poll-interval, --clock
auto|real, --spec; the variable of each is CONTRACT_ plus the option in capitals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from . import checks as _checks  # noqa: F401 - registers the custom checks
from . import hooks as _hooks  # noqa: F401 - registers the before_call hook
from .client import JSON, JSONAPI, ApiClient, Findings
from .invariants import JobHistory
from .jobs import JobKind, NotCreatable, kinds
from .model import load_spec
from .target import (
    OPTIONS,
    Options,
    Session,
    Target,
    TargetError,
    activate,
    active,
    deactivate,
    open_session,
)
from .timeline import BudgetExhausted, Timeline

# Collection order: cheap and decisive first (auth, lifecycle), fuzzing last.
ORDER = ("test_auth", "test_lifecycle", "test_lists", "test_conformance", "test_stateful",
         "test_webhooks")
_SESSION = pytest.StashKey[Session]()
_FINDINGS = pytest.StashKey[Findings]()
_PROBLEMS = pytest.StashKey[list[str]]()  # what a failed test reports, one entry per problem


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """A test fails with every problem its scenario found, in order. "No verdict" is never a
    pass or a skip: a server that refuses every create, or whose jobs never end within the
    polling budget, fails the check that needed it, with the reason."""
    findings = pyfuncitem.stash.get(_FINDINGS, None)
    try:
        result = yield
    except NotCreatable as exc:
        _fail(pyfuncitem, findings, f"The server refused every create, so this check could not "
                                    f"run. Received {exc} / Documented 201")
    except BudgetExhausted as exc:
        _fail(pyfuncitem, findings, f"No verdict: {exc} (--poll-budget)")
    except AssertionError as exc:
        if not findings:
            raise
        _fail(pyfuncitem, findings, str(exc))
    if findings:
        _fail(pyfuncitem, findings)
    return result


def _fail(item: pytest.Item, findings: Findings | None, last: str | None = None) -> None:
    problems = [*(findings or ()), *((last,) if last else ())]
    item.stash[_PROBLEMS] = problems
    raise AssertionError("\n\n".join(problems)) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Hand each problem of a failed test to the report (report.Collector lists them)."""
    report = yield
    if call.when == "call" and _PROBLEMS in item.stash:
        report.contract_problems = item.stash[_PROBLEMS]
    return report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suite target")
    for name in OPTIONS:
        flag = "--" + name.replace("_", "-")
        try:
            group.addoption(flag, dest=f"contract_{name}", default=None,
                            help=f"(env {OPTIONS[name][0]})" if name != "defect" else
                            "test-only: put a defect proxy between the suite and the mock")
        except ValueError:  # e.g. pytest-base-url owns --base-url already: read theirs
            pass


def _given(config: pytest.Config) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for name, (_, kind, _) in OPTIONS.items():
        value = config.getoption(f"contract_{name}", default=None)
        if value is None and name == "base_url":
            value = config.getoption("base_url", default=None)  # pytest-base-url's option
        given[name] = kind(value) if value is not None else None
    return given


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "api(name): needs the commercelayer or rackspace API")
    config.addinivalue_line("markers", "webhooks: needs --webhook-receiver")
    try:
        session = open_session(Options.from_sources(_given(config)))
    except TargetError as exc:
        raise pytest.UsageError(f"contract target: {exc}") from None
    config.stash[_SESSION] = session
    activate(session)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        deactivate(session)
        session.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return []
    t = session.target
    clock = "in-process clock" if session.timeline.handle else (
        "admin clock" if session.timeline.admin else
        f"real time (budget {session.timeline.budget:g} s)")
    return [f"contract target: {t.base_url} apis={','.join(sorted(t.apis))} "
            f"mock={t.is_mock} {clock} seed={t.seed} max-examples={t.max_examples}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        return ORDER.index(module) if module in ORDER else len(ORDER)

    items.sort(key=rank)  # stable: keeps the order within each module
    target = active().target
    apis = target.apis
    unselected = [item for item in items if (marker := item.get_closest_marker("api"))
                  and marker.args[0] not in apis]
    if target.webhook_receiver is None:  # opt-in: the target must reach the runner
        unselected += [item for item in items if item.get_closest_marker("webhooks")
                       and item not in unselected]
    if unselected:  # the user chose the APIs: their checks are not run, rather than skipped
        config.hook.pytest_deselected(items=unselected)
        items[:] = [item for item in items if item not in unselected]


@pytest.fixture(scope="session")
def contract() -> Session:
    """The running contract session (target and timeline)."""
    return active()


@pytest.fixture(scope="session")
def target(contract: Session) -> Target:
    """The server under test."""
    return contract.target


@pytest.fixture(scope="session")
def timeline(contract: Session) -> Timeline:
    """advance(seconds): the mock's clock when controllable, else real time within a budget."""
    return contract.timeline


@pytest.fixture(scope="session")
def spec(target: Target) -> Mapping[str, Any]:
    """The parsed openapi.yaml."""
    return load_spec(target.spec_path)


@pytest.fixture(scope="session")
def history() -> JobHistory:
    """Every job the explicit tests saw, for transition checks across tests."""
    return JobHistory()


@pytest.fixture
def findings(request: pytest.FixtureRequest) -> Findings:
    """The problems this test found so far (the test fails at its end if there are any)."""
    return request.node.stash.setdefault(_FINDINGS, Findings())


@pytest.fixture
def cl(target: Target, spec: Mapping[str, Any], history: JobHistory,
       findings: Findings) -> Iterator[ApiClient]:
    """A Commerce Layer client with the target's bearer token."""
    if "commercelayer" not in target.apis:
        pytest.skip("commercelayer API not selected")
    client = ApiClient(target.base_url, target.headers_for("commercelayer"), spec, history,
                       JSONAPI, findings)
    yield client
    client.http.close()


@pytest.fixture
def rs(target: Target, spec: Mapping[str, Any], history: JobHistory,
       findings: Findings) -> Iterator[ApiClient]:
    """A Rackspace client with the target's X-Auth-Token."""
    if "rackspace" not in target.apis:
        pytest.skip("rackspace API not selected")
    client = ApiClient(target.base_url, target.headers_for("rackspace"), spec, history, JSON,
                       findings)
    yield client
    client.http.close()


@pytest.fixture(scope="session")
def job_kinds(target: Target, spec: Mapping[str, Any]) -> dict[str, JobKind]:
    """Every job type of the spec, with create bodies."""
    return kinds(spec, target.project_id, target.agent_id)


@pytest.fixture
def fresh_queue(timeline: Timeline) -> None:
    """With clock control, let earlier jobs finish so the 10-active-jobs limit never bites."""
    if timeline.controlled:
        timeline.advance(3600)
