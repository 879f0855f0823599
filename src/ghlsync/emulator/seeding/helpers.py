"""What the family seeders share: the seeding clock, spread timestamps, earlier seeded records."""

from __future__ import annotations

import random
from typing import Any

from ghlsync.emulator.routes._listing import DAY_MS
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import Entity, LocationState, Store, iso_from_ms


def seed_clock(store: Store, options: SeedOptions) -> tuple[int, int]:
    """``(now_ms, span_ms)`` for seeded timestamps: fixed by ``anchor_ms`` when given."""
    return options.now_ms(store), options.history_days * DAY_MS


def seeded_times(rng: random.Random, now_ms: int, span_ms: int) -> tuple[str, str]:
    """An ``(added, updated)`` pair of ISO stamps within the seed's history window."""
    added = now_ms - int(rng.random() * span_ms)
    updated = added + int(rng.random() * (now_ms - added))
    return iso_from_ms(added), iso_from_ms(updated)


def seeded_contacts(location: LocationState) -> list[Entity]:
    """The location's contacts in a stable order (seeded links pick from these)."""
    return sorted(location.collection("contacts"), key=lambda contact: contact["id"])


def seeded_users(location: LocationState) -> list[str]:
    return sorted(user["id"] for user in location.collection("users"))


def pick(rng: random.Random, items: Any) -> Any:
    return items[int(rng.random() * len(items))]


class IsoStamps:
    """``iso_from_ms`` for seeding many records: the ``YYYY-MM-DDTHH:`` prefix cached per hour."""

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}

    def __call__(self, ms: int) -> str:
        hour, rest = divmod(ms, 3_600_000)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = iso_from_ms(hour * 3_600_000)[:14]
            self._hours[hour] = prefix
        minute, rest = divmod(rest, 60_000)
        second, milli = divmod(rest, 1000)
        return f"{prefix}{minute:02d}:{second:02d}.{milli:03d}Z"
