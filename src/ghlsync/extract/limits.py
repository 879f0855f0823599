"""``MarginLimiter``: kept for callers of the extract's old limiter; the client has the margin.

The 2 % safety margin on the server's rate window (the client stamps a call when it is sent,
HighLevel when it arrives) now lives in ``ghlsync.client.InMemoryLimiter(margin=0.02)``, on by
default, together with the daily counts persisted in ``$GHLSYNC_HOME/ratelimit.sqlite3``.
"""

from __future__ import annotations

from typing import Any

from ghlsync.client import InMemoryLimiter


class MarginLimiter(InMemoryLimiter):
    """``InMemoryLimiter(burst=..., interval=..., margin=...)`` under its old name."""

    def __init__(self, burst: int, interval: float, margin: float = 0.02, **options: Any) -> None:
        super().__init__(burst=burst, interval=interval, margin=margin, **options)

    @property
    def inner(self) -> InMemoryLimiter:
        """The limiter itself (this class used to wrap one)."""
        return self
