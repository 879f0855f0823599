"""The extract against HighLevel's lagging search index (GHL-NOTES §4, issue 16 item 3).

A contact written just before a run is not in search yet, so that run cannot load it. The
next run re-reads from ``bookmark - overlap`` and finds it: the lag never loses a write as
long as it is shorter than the overlap. The lag here is made long (10 minutes of emulator
time) so the test does not depend on how fast the machine runs the extract.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for


def _contact_ids(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {row[0] for row in con.execute("SELECT id FROM highlevel.contacts").fetchall()}


def test_a_write_hidden_by_the_lag_is_loaded_by_the_next_run(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    assert admin(emulator, "GET", "/settings")["searchIndexDelayMs"] > 0  # on by default
    admin(emulator, "PUT", "/settings", json={"searchIndexDelayMs": 600_000})
    db = tmp_path / "x.duckdb"
    config = config_for(emulator, streams=["contacts"])
    pipelines = str(tmp_path / "p")
    assert run_extract(config, to=f"duckdb:///{db}", pipelines_dir=pipelines).ok
    loc = emulator.state.locations[0]
    made = httpx.post(
        f"{emulator.base_url}/contacts/",
        json={"locationId": loc["id"], "email": "lagging@example.com"},
        headers={"Authorization": f"Bearer {loc['token']}", "Version": "2021-07-28"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["contact"]["id"]

    hidden = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=pipelines)
    assert hidden.ok and contact_id not in _contact_ids(db)  # not indexed yet

    admin(emulator, "POST", "/clock/advance", json={"seconds": 601})  # the index catches up
    caught = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=pipelines)
    assert caught.ok and contact_id in _contact_ids(db)
    assert len(_contact_ids(db)) == 241
