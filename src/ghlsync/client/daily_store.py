"""``DailyCountStore``: today's call counts per bucket in a small SQLite file, so that a restart
(or another process of the same ``GHLSYNC_HOME``) does not forget what today already spent."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ghlsync.client.budget import BucketKey
from ghlsync.errors import RateLimitStateError


class DailyCountStore:
    """Today's count per bucket in a small SQLite file (WAL), shared by processes.

    ``add`` adds a delta (so several processes' counts sum) and returns the stored total. The
    methods block (SQLite); ``InMemoryLimiter`` calls them in a worker thread, one at a time.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS daily_usage (owner TEXT NOT NULL, bucket TEXT NOT NULL,"
                " day TEXT NOT NULL, used INTEGER NOT NULL, daily_limit INTEGER NOT NULL,"
                " updated_at REAL NOT NULL, PRIMARY KEY (owner, bucket))"
            )
        except (OSError, sqlite3.Error) as exc:
            raise RateLimitStateError(
                f"cannot open the rate-limit counts file {self.path}: {exc}"
            ) from exc

    def load(self, key: BucketKey, day: str) -> tuple[int, int | None]:
        """(calls counted for ``day``, the daily limit last seen or ``None``)."""
        try:
            row = self._db.execute(
                "SELECT day, used, daily_limit FROM daily_usage WHERE owner=? AND bucket=?", key
            ).fetchone()
        except sqlite3.Error as exc:
            raise RateLimitStateError(f"cannot read {self.path}: {exc}") from exc
        if row is None:
            return 0, None
        return (int(row[1]) if row[0] == day else 0), int(row[2])

    def add(self, key: BucketKey, day: str, delta: int, floor: int, limit: int) -> int:
        """Add ``delta`` calls for ``day`` (at least ``floor`` in total); the new total."""
        return self.add_many([(key, day, delta, floor, limit)])[0]

    def add_many(self, items: list[tuple[BucketKey, str, int, int, int]]) -> list[int]:
        """``add`` for several buckets ``(key, day, delta, floor, limit)`` in one transaction
        (one worker-thread hop and one commit per flush, however many locations)."""
        totals: list[int] = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key, day, delta, floor, limit in items:
                    row = self._db.execute(
                        "SELECT day, used FROM daily_usage WHERE owner=? AND bucket=?", key
                    ).fetchone()
                    used = int(row[1]) if row is not None and row[0] == day else 0
                    total = max(used + delta, floor)
                    self._db.execute(
                        "INSERT INTO daily_usage (owner, bucket, day, used, daily_limit,"
                        " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, bucket) DO"
                        " UPDATE SET day=excluded.day, used=excluded.used,"
                        " daily_limit=excluded.daily_limit, updated_at=excluded.updated_at",
                        (*key, day, total, limit, time.time()),
                    )
                    totals.append(total)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise RateLimitStateError(f"cannot write {self.path}: {exc}") from exc
        return totals

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"DailyCountStore({str(self.path)!r})"


# -- the in-memory limiter -----------------------------------------------------------------------
