"""The live display of a run (as on a terminal): records/s, budget left, dlt's phase line."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from ghlsync.client import BudgetSnapshot
from ghlsync.client.session import open_session
from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer
from ghlsync.extract.engine import Report
from ghlsync.extract.progress import LiveProgress, budget_text, rate, rate_text
from ghlsync.extract.run import run_extract
from tests.integration.extract.conftest import config_for


def test_rate_and_budget_text() -> None:
    assert rate(100, 0.0) is None and rate_text(100, 0.0) == "-"
    assert rate(500, 2.0) == 250.0 and rate_text(1500, 0.5) == "3,000/s"
    assert budget_text(None) == "-"
    snapshot = BudgetSnapshot(remaining=87, burst=100, daily_remaining=199_870, daily_limit=200_000)
    assert budget_text(snapshot) == "87/100 burst, 199,870/200,000 today"


def test_live_display_of_a_real_run(emulator: EmulatorServer, tmp_path: Path) -> None:
    config = config_for(emulator, rate_limit=True, streams=["contacts"], page_size=40)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200, color_system=None)
    report = Report()
    phases: list[str] = []
    session = open_session(Settings.from_env(), config.connection)
    with session, LiveProgress(session, console=console) as live:
        report.on_change = live.changed

        def phase(text: str) -> None:
            phases.append(text)
            live.phase(text)

        result = run_extract(
            config,
            to=f"duckdb:///{tmp_path / 'x.duckdb'}",
            pipelines_dir=str(tmp_path / "p"),
            report=report,
            on_phase=phase,
            session=session,
        )
        live.progress.refresh()
        shown = screen.getvalue()
    assert result.ok
    assert phases[-2:] == ["loading 240 rows into duckdb", "writing the duckdb file"]
    assert "writing the duckdb file..." in shown
    for location_id in config.locations:
        assert f"{location_id} contacts" in shown
        snapshot = session.budget(location_id)
        assert snapshot is not None
        # the budget as the display showed it while the pages came in: spent, below the burst.
        # (Not ``snapshot.remaining`` now: a window after the last call the budget is whole
        # again, and a slow load into duckdb can take that long.)
        shown_remaining = [
            int(left)
            for left in re.findall(
                rf"{location_id} contacts .*?budget (\d+)/{snapshot.burst} burst, ", shown
            )
        ]
        assert shown_remaining and min(shown_remaining) < snapshot.burst, shown
        assert f"/{snapshot.daily_limit:,} today" in shown
    assert "120 records, 3 pages" in shown
    assert "/s" in shown
