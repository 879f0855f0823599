"""What ``ghlsync push`` shows: a live progress bar per location, then the summary."""

from __future__ import annotations

import json
import os
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table


def console(stderr: bool = True) -> Console:
    made = Console(stderr=stderr)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = 160
    return made


class LiveProgress:
    """Rows read, rows/s and budget left, one line per location (rich, on stderr)."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.fields[location]}[/]"),
            TextColumn("{task.completed:>10,.0f} rows"),
            TextColumn("{task.fields[rate]:>9} rows/s"),
            TextColumn("created {task.fields[created]} updated {task.fields[updated]}"),
            TextColumn("rejected {task.fields[rejected]}"),
            TextColumn("budget left {task.fields[budget]}"),
            TimeElapsedColumn(),
            console=console(),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}

    def __enter__(self) -> LiveProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(kind, exc, tb)

    def update(self, location_id: str, rows: int, report: Any) -> None:
        if location_id not in self._tasks:
            self._started[location_id] = time.monotonic()
            self._tasks[location_id] = self._progress.add_task(
                location_id,
                total=None,
                location=location_id,
                rate="-",
                created=0,
                updated=0,
                rejected=0,
                budget="?",
            )
        elapsed = max(time.monotonic() - self._started[location_id], 1e-6)
        budget = (
            f"{report.budget_left:,}/{report.budget_limit:,}"
            if report.budget_left is not None and report.budget_limit
            else "?"
        )
        self._progress.update(
            self._tasks[location_id],
            completed=rows,
            rate=f"{rows / elapsed:,.0f}",
            created=report.created,
            updated=report.updated,
            rejected=report.rejected_count,
            budget=budget,
        )


def show_result(result: Any) -> None:
    out = console()
    title = "ghlsync push (dry run: nothing written)" if result.dry_run else "ghlsync push"
    table = Table(title=f"{title} <- {result.source} [{result.mode}] ({result.seconds:.1f} s)")
    for column in ("location", "status", "rows", "created", "updated", "tags only",
                   "unchanged", "+tags", "-tags", "deleted/untagged", "rejected", "failed",
                   "budget left"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for report in result.locations:
        style = {"failed": "red", "budget_stopped": "yellow"}.get(report.status, "")
        budget = (
            f"{report.budget_left:,} of {report.budget_limit:,}"
            if report.budget_left is not None and report.budget_limit
            else "-"
        )
        table.add_row(
            report.location_id,
            f"[{style}]{report.status}[/]" if style else report.status,
            str(report.rows),
            str(report.created),
            str(report.updated),
            str(report.tags_only),
            str(report.unchanged),
            str(report.tags_added),
            str(report.tags_removed),
            f"{report.deleted}/{report.untagged}",
            str(report.rejected_count),
            str(report.failed_count),
            budget,
        )
    out.print(table)
    for report in result.locations:
        where = report.location_id
        if report.duplicates_allowed is not None:
            rule = "allowed: new rows created" if report.duplicates_allowed else "refused: upsert"
            out.print(f"{where}: duplicates {rule}", highlight=False)
        if report.message:
            out.print(f"[red]{where}:[/] {report.message}", highlight=False)
        for reason, count in sorted(report.rejected.items()):
            out.print(f"{where}: rejected {count} x {reason}", highlight=False)
        for reason, count in sorted(report.failed.items()):
            out.print(f"[red]{where}: failed {count} x {reason}[/]", highlight=False)
        for conflict in report.conflicts[:10]:
            out.print(
                f"[yellow]{where}: conflict row {conflict.row}: the {conflict.dropped} belongs to "
                f"contact {conflict.other_contact_id}, HighLevel kept contact "
                f"{conflict.contact_id}[/]",
                highlight=False,
            )
        for warning in report.warnings:
            out.print(f"[yellow]warning:[/] {where}: {warning}", highlight=False)
        if report.samples:
            out.print(f"{where}: sample of the plan:", highlight=False)
            for sample in report.samples:
                out.print("  " + json.dumps(sample, default=str), markup=False, highlight=False)
    if result.rejects_path and any(r.rejected or r.failed for r in result.locations):
        out.print(f"rejected rows written to {result.rejects_path}", highlight=False)
