"""What an extract shows while it runs: per location and stream records, pages, records/s, the
location's rate budget left, and dlt's phase ("loading 1234 rows into duckdb").

The arithmetic (``rate``, ``budget_text``, ``budgets``) is pure; ``LiveProgress`` wires it to a
``rich`` display fed by ``Report.on_change`` and ``run_extract(on_phase=...)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ghlsync.client import BudgetSnapshot
    from ghlsync.extract.engine import Report, StreamResult


class BudgetSource(Protocol):
    """Where a display reads budgets: the run session (``RunSession.budget``)."""

    def budget(self, location_id: str) -> BudgetSnapshot | None: ...


def rate(records: int, seconds: float) -> float | None:
    """Records per second (None until a measurable time has passed: a millisecond; a stream
    whose reading overlaps the load may take only a few)."""
    return records / seconds if seconds > 0.001 else None


def rate_text(records: int, seconds: float) -> str:
    value = rate(records, seconds)
    return "-" if value is None else f"{value:,.0f}/s"


def budget_text(snapshot: BudgetSnapshot | None) -> str:
    """``"87/100 burst, 199,870 today"`` (``"-"`` when the limiter knows nothing yet)."""
    if snapshot is None:
        return "-"
    return (
        f"{snapshot.remaining}/{snapshot.burst} burst, "
        f"{snapshot.daily_remaining:,}/{snapshot.daily_limit:,} today"
    )


def budgets(source: BudgetSource, locations: Iterable[str]) -> dict[str, dict[str, int]]:
    """The budget left per location as plain numbers (for ``--json``); unknown ones omitted."""
    out: dict[str, dict[str, int]] = {}
    for location_id in locations:
        snapshot = source.budget(location_id)
        if snapshot is not None:
            out[location_id] = {
                "remaining": snapshot.remaining,
                "burst": snapshot.burst,
                "daily_remaining": snapshot.daily_remaining,
                "daily_limit": snapshot.daily_limit,
            }
    return out


class LiveProgress:
    """A ``rich`` progress display of one run: a line per (location, stream) and a phase line.

    Use as a context manager; pass ``changed`` to ``Report.on_change`` and ``phase`` to
    ``run_extract(on_phase=...)``. Both may be called from any thread.
    """

    def __init__(self, budgets: BudgetSource, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.budgets = budgets
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[records]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[budget]}"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            transient=True,
            console=console or Console(stderr=True),
        )
        self._tasks: dict[tuple[str, str], Any] = {}
        self._phase: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> LiveProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def changed(self, result: StreamResult) -> None:
        with self._lock:
            key = (result.location_id, result.stream)
            fields: dict[str, Any] = {
                "records": f"{result.records:,} records, {result.pages} pages",
                "rate": rate_text(result.records, result.seconds),
                "budget": "budget " + budget_text(self.budgets.budget(result.location_id)),
                "status": result.status,
            }
            if key not in self._tasks:
                self._tasks[key] = self.progress.add_task(
                    f"{result.location_id} {result.stream}", total=None, **fields
                )
            else:
                self.progress.update(self._tasks[key], **fields)

    def phase(self, text: str) -> None:
        with self._lock:
            fields: dict[str, Any] = {"records": "", "rate": "", "budget": "", "status": ""}
            if self._phase is None:
                self._phase = self.progress.add_task(f"{text}...", total=None, **fields)
            else:
                self.progress.update(self._phase, description=f"{text}...", **fields)


def summary_rows(report: Report) -> list[dict[str, Any]]:
    """The report's rows with their records/s (for the summary table)."""
    rows = []
    for row in report.to_dict()["results"]:
        rows.append({**row, "rate": rate_text(int(row["records"]), float(row["seconds"]))})
    return rows


_CALL = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+(?: -> |: )")
_TRACE = re.compile(r" \[traceId [^\]]*\]")


def failure_kind(message: str) -> str:
    """A failure's message without the call and HighLevel's traceId: the same refusal of
    every stream of a location (``401: Invalid JWT (hint: ...)``) is one kind."""
    return _TRACE.sub("", _CALL.sub("", message, count=1)).strip()


def failure_groups(report: Report) -> list[dict[str, Any]]:
    """Failed streams grouped once per location and kind: ``location_id``, ``kind``,
    ``streams`` (their names) and ``message`` (the first one's, with its call)."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in report.to_dict()["results"]:
        if row["status"] != "failed":
            continue
        key = (row["location_id"], failure_kind(row["message"]))
        group = groups.setdefault(
            key,
            {"location_id": key[0], "kind": key[1], "streams": [], "message": row["message"]},
        )
        group["streams"].append(row["stream"])
    return list(groups.values())
