"""Time in the emulator: HighLevel's ISO-ms timestamps, and a clock tests can move."""

from __future__ import annotations

import functools
import math
import time
from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as HighLevel writes timestamps (``...T12:00:00.000Z``)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def iso_from_ms(epoch_ms: int) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


@functools.lru_cache(maxsize=1 << 16)
def ms_from_iso(value: str) -> int:
    """Epoch milliseconds of an ISO-8601 timestamp (``Z`` or an offset); cached, since every
    search page turns each record's stamp into its ``searchAfter`` cursor."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class Clock:
    """Wall clock and monotonic clock; tests replace it to move time without sleeping."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def time(self) -> float:
        return time.time() + self.offset_seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.offset_seconds

    def advance(self, seconds: float) -> None:
        if not math.isfinite(seconds):
            # an infinite offset breaks every timestamp until restart: refuse it here too
            raise ValueError(f"the clock cannot move by {seconds} seconds")
        self.offset_seconds += seconds
