"""Bookmark arithmetic (pure): where an incremental read starts and how bookmarks advance.

A bookmark is per stream and per location: ``{"cursor": "<ISO-8601>"}`` for incremental
streams, ``{"ids": [...]}`` for full-table streams (the ids seen last run, to detect deletes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ghlsync.client.resources._base import iso

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
    bookmark: dict[str, Any] | None,
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
