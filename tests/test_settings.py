"""Settings: defaults < config file < environment < flags, with errors naming file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mock_server.app import create_app
from mock_server.settings import EXTRA_SECTIONS, ConfigError, Settings


def test_example_config_loads_and_matches_defaults() -> None:
    example = Path(__file__).resolve().parent.parent / "mock-server.example.yaml"
    loaded = Settings.from_file(example)
    assert loaded.port == 8080 and loaded.max_active_jobs == 10
    assert loaded.timings["imports"].per_item == pytest.approx(0.01)


EXAMPLE = Path(__file__).resolve().parent.parent / "mock-server.example.yaml"


def test_the_example_config_names_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    named = set(re.findall(r"^(?:# )?([a-z_]+):", text, flags=re.MULTILINE))
    keys = {f for f in Settings.__dataclass_fields__ if f not in ("extra", "config_file")}
    assert keys | EXTRA_SECTIONS <= named, sorted(keys | EXTRA_SECTIONS - named)


def test_the_example_config_with_every_example_switched_on_serves(tmp_path: Path) -> None:
    lines = [re.sub(r"^# (?=[a-z_]+:|  )", "", line)
             for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    on = tmp_path / "on.yaml"
    on.write_text("\n".join(line for line in lines if not line.startswith("state:")) + "\n")
    settings = Settings.from_file(on)
    assert settings.extra["faults"] and settings.extra["rules"] and settings.admin_token
    create_app(settings.with_overrides(fixtures=None))  # faults, rules, scenarios, agents parse


def test_environment_then_flags_override(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seed: 3\nspeed: 2\nlimits: false\n")
    base = Settings.from_env(Settings.from_file(cfg), {"MOCK_SERVER_SEED": "9"})
    assert (base.seed, base.speed, base.limits) == (9, 2.0, False)
    assert base.with_overrides(seed=11, speed=None).seed == 11


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus: 1\n", "unknown key 'bogus'"),
        ("port: eighty\n", "port must be int"),
        ("timings: {imports: {pending: -1}}\n", "timings.imports.pending"),
        ("timings: {nothing: {pending: 1}}\n", "timings.nothing"),
        ("start: yesterday\n", "start"),
        ("- a list\n", "top level must be a mapping"),
        ("port: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        Settings.from_file(cfg)
    assert str(cfg) in str(err.value) and message in str(err.value)
