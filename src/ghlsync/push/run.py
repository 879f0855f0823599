"""``run_push``: the Python API behind ``ghlsync push``.

Example::

    from ghlsync.push import PushConfig, run_push, load_mapping

    result = run_push(PushConfig(source="people.csv", mapping=load_mapping("contacts.yaml"),
                                 locations=("loc123",), rejects="rejects.csv"))
    result.ok, [r.to_dict() for r in result.locations]
"""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ghlsync.client import AsyncGHLClient
from ghlsync.client.session import RunSession
from ghlsync.config import Settings
from ghlsync.errors import ConfigError
from ghlsync.push.config import PushConfig
from ghlsync.push.location import Prepared, Progress, check_columns, prepare, push_location
from ghlsync.push.plan import RejectedRow
from ghlsync.push.readers import Source, open_source
from ghlsync.push.report import LocationReport, PushResult
from ghlsync.push.session import connection_for, open_push_session
from ghlsync.push.writer import LocationFailed


class RejectsFile:
    """``--rejects``: the original row, then ``reason``, ``field`` and ``detail`` (and the
    location when there are several). Without a path, rejects are only counted."""

    def __init__(self, path: str | None, columns: Sequence[str], *, with_location: bool) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()  # incremental_dedup stages (and rejects) in a thread
        self._handle: TextIO | None = None
        self._writer: Any = None
        if path is None:
            return
        head = (["location_id"] if with_location else []) + list(columns)
        if "_raw" not in head:
            head.append("_raw")
        head += ["reason", "field", "detail"]
        try:
            self._handle = Path(path).open("w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"cannot write the rejects file {path}: {exc.strerror}") from None
        self._writer = csv.DictWriter(self._handle, head, extrasaction="ignore")
        self._writer.writeheader()
        self._with_location = with_location

    def __call__(self, location_id: str, rows: Sequence[RejectedRow]) -> None:
        with self._lock:
            self._write(location_id, rows)

    def _write(self, location_id: str, rows: Sequence[RejectedRow]) -> None:
        self.count += len(rows)
        if self._writer is None:
            return
        for rejected in rows:
            values = {k: _cell(v) for k, v in rejected.row.values.items()}
            if self._with_location:
                values["location_id"] = location_id
            values["reason"] = ";".join(dict.fromkeys(p.reason for p in rejected.problems))
            values["field"] = ";".join(dict.fromkeys(p.field for p in rejected.problems))
            values["detail"] = "; ".join(p.detail for p in rejected.problems)
            self._writer.writerow(values)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, default=str)
    return value


def run_push(
    config: PushConfig,
    *,
    settings: Settings | None = None,
    session: RunSession | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
) -> PushResult:
    """Run one push (blocking). ``ConfigError`` for bad input, before anything is written;
    every later failure is in the result, location by location."""
    return asyncio.run(
        push(config, settings=settings, session=session, progress=progress, source=source)
    )


async def push(
    config: PushConfig,
    *,
    settings: Settings | None = None,
    session: RunSession | None = None,
    progress: Progress | None = None,
    source: Source | None = None,
) -> PushResult:
    """``run_push`` for a running event loop (``session``: a ``RunSession`` of your own,
    e.g. one opened with a test transport; it is left open)."""
    started = time.monotonic()
    settings = settings or Settings.from_env()
    src = source or open_source(config.source, query=config.query, table=config.table,
                                fmt=config.fmt)  # fmt: skip
    columns = src.columns
    check_columns(config, columns)
    own = session is None
    active = session or open_push_session(
        settings,
        connection_for(
            config.connection,
            locations=config.locations,
            tokens=config.tokens,
            base_url=config.base_url,
            rate_limit=config.rate_limit,
        ),
        token=config.token,
    )
    try:
        if config.location_column and not config.locations:
            locations = await asyncio.to_thread(_distinct, src, config.location_column)
            if not locations:
                raise ConfigError(
                    f"the column {config.location_column!r} holds no location id",
                    hint="fill it, or pass --location",
                )
        else:
            locations = await active.locations(config.locations)
        rejects = RejectsFile(config.rejects, columns, with_location=len(locations) > 1)
        try:
            reports = await _push_all(active.client, config, src, columns, locations, settings,
                                      rejects, progress)  # fmt: skip
        finally:
            rejects.close()
    finally:
        if own:
            await active.aclose()
    return PushResult(
        reports,
        source=getattr(src, "name", config.source),
        mode=config.mode,
        dry_run=config.dry_run,
        rejects_path=config.rejects,
        seconds=time.monotonic() - started,
    )


async def _push_all(
    client: AsyncGHLClient,
    config: PushConfig,
    source: Source,
    columns: Sequence[str],
    locations: Sequence[str],
    settings: Settings,
    rejects: RejectsFile,
    progress: Progress | None,
) -> list[LocationReport]:
    # every location's mapping first: a mapping that cannot work fails before any write
    prepared = await asyncio.gather(
        *(prepare(client, config, loc, columns) for loc in locations), return_exceptions=True
    )
    problems = [p for p in prepared if isinstance(p, ConfigError)]
    if problems:
        raise ConfigError(
            " | ".join(p.message for p in problems), hint="fix the mapping; nothing was sent"
        )
    reports: dict[str, LocationReport] = {}
    ready: list[Prepared] = []
    for location_id, item in zip(locations, prepared, strict=True):
        if isinstance(item, Prepared):
            ready.append(item)
        else:
            failed = LocationReport(location_id, status="failed")
            failed.message = str(item) if isinstance(item, LocationFailed | Exception) else ""
            reports[location_id] = failed
    finished = await asyncio.gather(
        *(push_location(client, config, p, source, settings, rejects, progress) for p in ready)
    )
    for report in finished:
        reports[report.location_id] = report
    return [reports[location_id] for location_id in locations]


def _distinct(source: Source, column: str) -> list[str]:
    seen: dict[str, None] = {}
    for batch in source.batches(10_000):
        for row in batch:
            value = str(row.values.get(column) or "").strip()
            if value and row.malformed is None:
                seen.setdefault(value, None)
    return list(seen)
