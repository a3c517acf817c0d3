"""The official `commercelayer` CLI against the mock, set up by `mock-server commercelayer-env`.

The CLI has no base-URL option: the printed environment names the organization and a token,
and preloads a fetch hook (mock_server/clients/commercelayer_cli.cjs) that sends its calls for
https://<org>.commercelayer.io to the mock. The first tests need Node only; the last runs the
real CLI and its exports, imports and cleanups plugins (tests/fixtures/commercelayer_cli.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.serving import NamespaceHandle

from .fixtures.commercelayer_cli import cli_home
from .fixtures.http import JSONAPI

BIN = Path(sys.executable).parent


def _shell(script: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`script` in bash, with this venv's `mock-server` first on PATH."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCK_SERVER_"))}
    base.update(env or {})
    base["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '')}"
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=base,
                          capture_output=True, text=True, timeout=timeout)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return node


def _create_export(ns: NamespaceHandle) -> str:
    r = requests.post(f"{ns.url}/api/exports", timeout=10, headers={
        "Authorization": f"Bearer {ns.token()}", "Content-Type": JSONAPI, "Accept": JSONAPI},
        json={"data": {"type": "exports", "attributes": {"resource_type": "skus"}}})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def test_the_printed_environment_sends_node_fetch_for_the_vendor_host_to_the_mock(
        mock_server: NamespaceHandle, tmp_path: Path) -> None:
    _node()
    export_id = _create_export(mock_server)
    script = """
    const token = process.env.CL_CLI_ACCESS_TOKEN, org = process.env.CL_CLI_ORGANIZATION
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/vnd.api+json' }
    const list = await fetch(`https://${org}.commercelayer.io/api/exports`, { headers })
    const url = `https://${org}.commercelayer.io/api/exports/${process.argv[2]}`
    const one = await fetch(new Request(url, { headers }))
    console.log(JSON.stringify({ list: list.status, count: (await list.json()).meta.record_count,
                                 one: one.status, id: (await one.json()).data.id }))
    """
    Path(tmp_path, "probe.mjs").write_text(script, encoding="utf-8")
    run = _shell(f'eval "$(mock-server commercelayer-env --url {mock_server.url})"\n'
                 f"node probe.mjs {export_id}", tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"list": 200, "count": 1, "one": 200, "id": export_id}


def test_the_environment_names_the_organization_token_and_namespace(
        mock_server: NamespaceHandle, tmp_path: Path) -> None:
    run = _shell(f"mock-server commercelayer-env --url {mock_server.server.url} "
                 f"--namespace {mock_server.name}", tmp_path)
    assert run.returncode == 0, run.stderr
    exported = dict(line.removeprefix("export ").split("=", 1) for line in run.stdout.splitlines())
    assert set(exported) == {"CL_CLI_ORGANIZATION", "CL_CLI_DOMAIN", "CL_CLI_ACCESS_TOKEN",
                             "MOCK_SERVER_CL_URL", "NODE_OPTIONS"}
    assert exported["CL_CLI_ORGANIZATION"] == "acme"
    assert exported["MOCK_SERVER_CL_URL"] == mock_server.url
    assert "commercelayer_cli.cjs" in exported["NODE_OPTIONS"]
    # the token works on the mock, in the namespace
    r = requests.get(f"{mock_server.url}/api/exports", timeout=10, headers={
        "Authorization": f"Bearer {exported['CL_CLI_ACCESS_TOKEN']}", "Accept": JSONAPI})
    assert r.status_code == 200, r.text


def test_no_mock_at_the_url_is_one_line_and_exit_1(tmp_path: Path) -> None:
    run = _shell("mock-server commercelayer-env --url http://127.0.0.1:9", tmp_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "is `mock-server serve` running there?" in run.stderr


def test_the_official_cli_exports_imports_and_cleans_up_on_the_mock(
        mock_server: NamespaceHandle, tmp_path: Path) -> None:
    env = cli_home(tmp_path / "home")
    mock_server.clock.set_speed(600)  # the CLI polls in real time: jobs end between two polls
    work = tmp_path / "work"
    work.mkdir()
    (work / "new-skus.json").write_text(json.dumps(
        [{"code": "CLI-SKU-1", "name": "From the CLI"}, {"code": "CLI-SKU-2", "name": "Two"}]))
    run = _shell(f"""
    eval "$(mock-server commercelayer-env --url {mock_server.url})"
    commercelayer exports:create -t skus -X skus.json
    commercelayer imports:create -t skus -i new-skus.json
    commercelayer exports:list
    commercelayer cleanups:create -t skus -w code_start=CLI-SKU-2
    """, work, env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Import of 2 skus completed" in run.stdout, run.stdout
    assert "Total export count: 1" in run.stdout, run.stdout
    exported = json.loads((work / "skus.json").read_text())
    assert len(exported) == 14 and all("code" in row for row in exported)
    skus = requests.get(f"{mock_server.url}/api/skus?filter[q][code_start]=CLI-SKU", timeout=10,
                        headers={"Authorization": f"Bearer {mock_server.token()}",
                                 "Accept": JSONAPI}).json()
    assert "Cleanup of 1 skus completed" in run.stdout, run.stdout
    assert [s["attributes"]["code"] for s in skus["data"]] == ["CLI-SKU-1"]  # imported, 2 cleaned
    # the CLI's calls reached this namespace: its own User-Agent, and axios fetching the file
    agents = {value.split("/")[0] + "/" + value.split("/")[1]
              for e in mock_server.journal.entries()
              for name, value in e.request_headers if name.lower() == "user-agent"}
    assert {"@commercelayer/cli", "axios/1.21.1"} <= agents, agents
