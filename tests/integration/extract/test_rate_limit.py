"""At the emulator's burst limit the extract waits instead of drawing 429s."""

from __future__ import annotations

from pathlib import Path

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions, parse_rate_limit
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import admin, config_for


def test_two_locations_at_the_limit_draw_no_429(tmp_path: Path) -> None:
    settings = EmulatorSettings(rate_limit=parse_rate_limit("20/2s"), daily_limit=None)
    with EmulatorServer(SeedOptions(locations=2, contacts=1200, seed=5), settings) as server:
        config = config_for(
            server, rate_limit=True, burst=20, interval=2.0, page_size=25, streams=["contacts"]
        )
        result = run_extract(
            config, to=f"duckdb:///{tmp_path / 'x.duckdb'}", pipelines_dir=str(tmp_path / "p")
        )
        assert result.ok and result.report.totals()["contacts"] == 1200
        counts = admin(server, "GET", "/counts")
        statuses = {s for by in counts["operations"].values() for s in by}
        assert "429" not in statuses, counts
        per_location = counts["total"] / 2  # 24 searches + custom fields, per location
        assert per_location > 20  # past one window: the limiter had to wait
        assert result.seconds < 10  # locations waited in parallel, not one after the other
