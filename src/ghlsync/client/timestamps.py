"""Timestamps as HighLevel takes them: ISO-8601 text in UTC, or epoch milliseconds (pure)."""

from __future__ import annotations

import datetime as dt

__all__ = ["epoch_ms", "iso"]


def iso(value: dt.datetime | dt.date | str) -> str:
    """ISO-8601 text; naive datetimes are taken as UTC, aware ones are converted to UTC."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    return value.isoformat()


def epoch_ms(value: dt.datetime | int) -> int:
    """Milliseconds since the epoch (calendar events); naive datetimes are taken as UTC."""
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)
