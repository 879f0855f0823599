"""``ghlsync tap`` piped into the real ``target-jsonl`` (from PyPI, in its own cached venv)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghlsync.emulator import EmulatorServer
from tests.integration.extract.conftest import admin, config_for, emulator_items

ROOT = Path(__file__).resolve().parents[3]
TARGET_VENV = ROOT / ".venv-target-jsonl"
TARGET = TARGET_VENV / ("Scripts" if os.name == "nt" else "bin") / "target-jsonl"
STAMP = TARGET_VENV / ".ghlsync-target-jsonl-0.1.4"  # scripts/dev.py pins target-jsonl==0.1.4
CLI = "from ghlsync.cli import main; main()"


@pytest.fixture(scope="session")
def target_jsonl() -> Path:
    if not (STAMP.exists() and TARGET.exists()):
        # one place installs it: scripts/dev.py (also run by `scripts/dev.py setup`)
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "dev.py"), "target-jsonl"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not TARGET.exists():
            message = f"target-jsonl==0.1.4 could not be installed: {done.stderr[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(message)  # in CI the Singer test must run, never skip silently
            pytest.skip(message + " (offline?)")
    return TARGET


def _pipe(config: Path, target_config: Path, *extra: str) -> tuple[str, str]:
    tap = subprocess.Popen(
        [sys.executable, "-c", CLI, "tap", "--config", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    target = subprocess.run(
        [str(TARGET), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        timeout=120,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    tap_err = tap.stderr.read().decode() if tap.stderr else ""
    assert tap.wait(timeout=60) == 0, tap_err
    assert target.returncode == 0, target.stderr.decode()[-2000:]
    return target.stdout.decode(), tap_err


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_tap_into_target_jsonl(
    emulator: EmulatorServer, tmp_path: Path, target_jsonl: Path
) -> None:
    config = config_for(emulator)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "rate_limit": False,
            }
        )
    )
    out = tmp_path / "out"
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))

    stdout, _ = _pipe(tap_config, target_config)
    contacts = _lines(out / "contacts.jsonl")
    expected = {
        c["id"] for lid in config.locations for c in emulator_items(emulator, lid, "contacts")
    }
    assert {c["id"] for c in contacts} == expected and len(contacts) == 240
    assert {c["location_id"] for c in contacts} == set(config.locations)
    opportunities = _lines(out / "opportunities.jsonl")
    assert len(opportunities) == 40
    assert (out / "pipelines.jsonl").exists() and (out / "custom_fields.jsonl").exists()

    state = json.loads(stdout.strip().splitlines()[-1])
    bookmarks = state["bookmarks"]["contacts"]
    assert set(bookmarks) == set(config.locations)
    assert all(b["cursor"] for b in bookmarks.values())

    # a second run from that state, only contacts selected by a catalog: just the overlap window
    catalog = json.loads(
        subprocess.run(
            [sys.executable, "-c", CLI, "tap", "--config", str(tap_config), "--discover"],
            capture_output=True,
            check=True,
        ).stdout
    )
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = entry["stream"] == "contacts"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    (tmp_path / "state.json").write_text(json.dumps(state))
    (out / "contacts.jsonl").unlink()
    (out / "opportunities.jsonl").unlink()
    _pipe(
        tap_config,
        target_config,
        "--catalog",
        str(tmp_path / "catalog.json"),
        "--state",
        str(tmp_path / "state.json"),
    )
    again = _lines(out / "contacts.jsonl")
    assert 0 < len(again) < 50
    assert not (out / "opportunities.jsonl").exists()


def test_tap_reads_only_the_configured_streams_without_a_catalog(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = config_for(emulator)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "base_url": config.base_url,
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "streams": ["contacts"],
                "rate_limit": False,
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-c", CLI, "tap", "--config", str(tap_config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert {m["stream"] for m in messages if m["type"] == "SCHEMA"} == {"contacts"}
    records = [m for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in records} == {"contacts"}
    expected = sum(len(emulator_items(emulator, loc, "contacts")) for loc in config.locations)
    assert len(records) == expected
    operations = admin(emulator, "GET", "/counts")["operations"]
    read = {op for op, per_location in operations.items() if sum(per_location.values())}
    assert read <= {"POST /contacts/search", "GET /locations/{locationId}/customFields"}, read
