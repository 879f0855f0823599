"""Bookmark arithmetic (pure): where an incremental read starts and how bookmarks advance.

A bookmark is per stream and per location: ``{"cursor": "<ISO-8601>"}`` for incremental
streams, ``{"ids": [...]}`` for full-table streams (the ids seen last run, to detect deletes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ghlsync.client.timestamps import iso

EPOCH = "1970-01-01T00:00:00.000Z"


def parse_ts(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def start_from(
    bookmark: Mapping[str, Any] | None,
    *,
    overlap: dt.timedelta,
    start_date: str | dt.datetime | None = None,
) -> str:
    """Where an incremental read starts: ``cursor - overlap``, never before ``start_date``."""
    floor = parse_ts(start_date) if start_date else parse_ts(EPOCH)
    cursor = (bookmark or {}).get("cursor")
    if not cursor:
        return iso(floor)
    return iso(max(parse_ts(cursor) - overlap, floor))


def advance(current: str | None, candidate: Any) -> str | None:
    """The later of two ISO timestamps (``candidate`` may be missing or malformed: ignored)."""
    if not isinstance(candidate, str) or not candidate:
        return current
    try:
        new = parse_ts(candidate)
    except ValueError:
        return current
    if current is None or new > parse_ts(current):
        return iso(new)
    return current


def deleted_ids(previous: dict[str, Any] | None, seen: set[str]) -> list[str]:
    """Ids present in the previous full read and absent now."""
    return sorted(set((previous or {}).get("ids") or ()) - seen)


#: How far past "now" a cursor may be (server clocks differ a little; more is bad data).
SKEW = dt.timedelta(minutes=1)


def clamp(cursor: str | None, now: dt.datetime, skew: dt.timedelta = SKEW) -> str | None:
    """``cursor``, but never later than ``now + skew``.

    A record stamped in the future (a bad ``dateUpdated``) would otherwise move the bookmark
    past every later change; clamped, that record is simply re-read each run.
    """
    if cursor is None:
        return None
    limit = now + skew
    try:
        return iso(limit) if parse_ts(cursor) > limit else cursor
    except ValueError:
        return None


def sortable(value: Any) -> str | None:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SS`` (UTC) for plain string comparison.

    The hot path: HighLevel's UTC stamps (``...Z``, ``...+00:00``) are sliced, not parsed; other
    offsets and epoch milliseconds are converted; junk gives None.
    """
    if isinstance(value, str):
        if (
            len(value) >= 19
            and value[10] == "T"
            and (value.endswith("Z") or value.endswith("+00:00") or len(value) == 19)
        ):
            return value[:19]
        try:
            return iso(parse_ts(value))[:19]
        except ValueError:
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso(dt.datetime.fromtimestamp(value / 1000, dt.UTC))[:19]
    return None


def changed_since(bookmark: dict[str, Any] | None, *, overlap: dt.timedelta) -> str | None:
    """The ``sortable`` cutoff for "emit only changed records": ``cursor - overlap``, or None
    (emit everything) when the bookmark has no cursor yet."""
    cursor = (bookmark or {}).get("cursor")
    if not cursor:
        return None
    try:
        return iso(parse_ts(cursor) - overlap)[:19]
    except ValueError:
        return None


def scan_cursor(started: dt.datetime) -> str:
    """The cursor a full scan leaves: the time the scan started.

    Every change after the scan started is stamped at or after its start; every change before
    it was read by the scan (a record changed during the scan may have been read before the
    change: its new stamp is still after the start). The next run's ``cursor - overlap`` absorbs
    a clock difference with HighLevel of up to ``overlap``. Not the newest stamp seen: a record
    read early and changed during the scan can carry a stamp older than one read later.
    """
    return iso(started)
