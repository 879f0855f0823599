"""Row filters of the sync modes: the cursor of ``incremental_append`` and the deduplication of
``incremental_dedup`` (staged in a temporary SQLite file, so memory stays flat)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ghlsync.push.readers import SourceRow


def cursor_key(value: Any) -> tuple[int, Any]:
    """An order for cursor values of any source: numbers as numbers, dates and text as
    ISO-like text (``2026-01-02`` < ``2026-01-10``); None/empty sorts first."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return (0, "")
    if isinstance(value, bool):
        return (1, float(value))
    if isinstance(value, int | float):
        return (1, float(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return (2, value.astimezone(dt.UTC).isoformat())
    if isinstance(value, dt.date):
        return (2, value.isoformat())
    text = str(value).strip()
    try:
        return (1, float(text))
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return (3, text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return (2, parsed.astimezone(dt.UTC).isoformat())


def after_cursor(column: str, saved: Any) -> Callable[[Mapping[str, Any]], bool]:
    """Keep rows whose ``column`` is past ``saved`` (everything when nothing is saved)."""
    if saved is None:
        return lambda values: True
    floor = cursor_key(saved)
    return lambda values: cursor_key(values.get(column)) > floor


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


class Deduplicated:
    """Rows staged by key, the latest kept (by ``cursor`` when given, else source order)."""

    def __init__(self, key_of: Callable[[Mapping[str, Any]], str | None], cursor: str | None):
        self._key_of = key_of
        self._cursor = cursor
        self._dir = tempfile.TemporaryDirectory(prefix="ghlsync-dedup-")
        self._db = sqlite3.connect(Path(self._dir.name) / "stage.sqlite3", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE rows (key TEXT PRIMARY KEY, number INTEGER, kind INTEGER, num REAL,"
            " txt TEXT, body TEXT)"
        )
        self.unkeyed: list[SourceRow] = []
        self.staged = 0

    def add(self, rows: Sequence[SourceRow]) -> list[SourceRow]:
        """Stage ``rows``; return those that cannot be staged (malformed, without a key)."""
        loose: list[SourceRow] = []
        staged = []
        for row in rows:
            key = self._key_of(row.values) if row.malformed is None else None
            if key is None:
                loose.append(row)
                continue
            kind, value = cursor_key(row.values.get(self._cursor)) if self._cursor else (0, "")
            number = float(value) if kind == 1 else 0.0
            text = "" if kind == 1 else str(value)
            body = json.dumps({k: jsonable(v) for k, v in row.values.items()}, default=str)
            staged.append((key, row.number, kind, number, text, body))
        self.staged += len(staged)
        # latest wins: a later row replaces unless its cursor is older
        self._db.executemany(
            "INSERT INTO rows VALUES (?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET"
            " number=excluded.number, kind=excluded.kind, num=excluded.num, txt=excluded.txt,"
            " body=excluded.body"
            " WHERE (excluded.kind, excluded.num, excluded.txt) >= (rows.kind, rows.num, rows.txt)",
            staged,
        )
        return loose

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM rows").fetchone()[0])

    def batches(self, size: int) -> Iterator[list[SourceRow]]:
        cursor = self._db.execute("SELECT number, body FROM rows ORDER BY number")
        while True:
            chunk = cursor.fetchmany(size)
            if not chunk:
                return
            yield [SourceRow(number, json.loads(body)) for number, body in chunk]

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
