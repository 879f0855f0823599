"""``docs/meltano.yml`` can run: its executable is a console script, its settings are config keys."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import yaml

from ghlsync.extract.config import CONFIG_KEYS, OAUTH_KEYS, ExtractConfig

ROOT = Path(__file__).resolve().parents[3]


def _extractor() -> dict[str, object]:
    project = yaml.safe_load((ROOT / "docs" / "meltano.yml").read_text())
    (extractor,) = project["plugins"]["extractors"]
    assert isinstance(extractor, dict)
    return extractor


def test_meltano_executable_is_a_console_script_that_runs_the_tap(tmp_path: Path) -> None:
    extractor = _extractor()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    executable = str(extractor["executable"])
    assert executable in scripts
    module, _, function = scripts[executable].partition(":")
    entry = getattr(import_module(module), function)
    assert callable(entry)
    # run that entry point the way Meltano calls the executable: --config ... --discover
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"locations": ["loc1"], "token": "pit-x"}))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from {module} import {function}; {function}()",
            *("--config", str(config), "--discover"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    catalog = json.loads(done.stdout)
    assert {"contacts", "opportunities"} <= {s["stream"] for s in catalog["streams"]}
    capabilities = extractor["capabilities"]
    assert isinstance(capabilities, list)
    assert set(capabilities) == {"catalog", "discover", "state"}


def test_meltano_settings_are_config_keys_and_secrets_are_sensitive() -> None:
    settings = _extractor()["settings"]
    assert isinstance(settings, list)
    names = [str(s["name"]) for s in settings]
    for name in names:
        top, _, nested = name.partition(".")
        assert top in CONFIG_KEYS, name
        assert not nested or (top == "oauth" and nested in OAUTH_KEYS), name
    for setting in settings:
        if setting["name"] in {"token", "oauth.client_secret"}:
            assert setting.get("sensitive") is True and setting.get("kind") == "password"
    # what Meltano would pass (nested settings become objects) is a valid config
    example = {
        "base_url": "http://127.0.0.1:1",
        "token": "pit-x",
        "locations": ["loc1"],
        "overlap_seconds": 300,
        "rate_limit": True,
        "oauth": {"client_id": "app-x", "client_secret": "s", "company_id": "c", "app_id": "a"},
    }
    assert {k for k in example} <= {n.partition(".")[0] for n in names}
    assert ExtractConfig.from_mapping(example).oauth is not None
