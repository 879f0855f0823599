"""What to seed (``SeedOptions``), what seeding gave (``SeedResult``), and the random
number generator each (location, family) pair draws from."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ghlsync.emulator.state import LocationState, Store


@dataclass
class SeedOptions:
    """What to generate. ``contacts`` is the total across locations."""

    locations: int = 2
    contacts: int = 200
    opportunities: int = 0
    seed: int = 0
    #: per-kind sizes for other modules (``count("products", 20)``)
    counts: dict[str, int] = field(default_factory=dict)
    #: timestamps are spread over this many days before ``now``
    history_days: int = 730
    #: "now" for seeded timestamps (epoch ms); None = the wall clock at seeding. Fix it to
    #: make seeded records byte-for-byte identical across runs (it must lie in the past).
    anchor_ms: int | None = None
    #: the first number in seeded emails and phones (``add_seed`` continues after the
    #: contacts already there, so added ones never duplicate them)
    number_from: int = 0

    def now_ms(self, store: Store) -> int:
        """ "Now" for seeded timestamps: ``anchor_ms``, else the wall clock (a second ago)."""
        return self.anchor_ms or int(store.clock.time() * 1000) - 1000

    def created_ms(self, store: Store, rng: random.Random) -> int:
        """When a seeded location (and its settings, fields, pipelines) came to be: before
        its oldest record, inside the week before the history window."""
        return self.now_ms(store) - self.history_days * 86_400_000 - rng.randrange(7 * 86_400_000)

    def count(self, kind: str, default: int) -> int:
        if kind == "contacts":
            return self.contacts
        if kind == "opportunities":
            return self.opportunities
        return self.counts.get(kind, default)

    def per_location(self, total: int, index: int) -> int:
        """``total`` split across locations, the remainder to the first ones."""
        base, extra = divmod(total, max(self.locations, 1))
        return base + (1 if index < extra else 0)


@dataclass
class SeedResult:
    company_id: str
    agency_token: str
    client_id: str
    client_secret: str
    app_id: str
    locations: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "companyId": self.company_id,
            "agencyToken": self.agency_token,
            "oauth": {
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                "appId": self.app_id,
            },
            "locations": self.locations,
        }


def module_rng(seed: int, location_id: str, module: str) -> random.Random:
    return random.Random(f"{seed}:{location_id}:{module}")


def location_index(location: LocationState) -> int:
    """The location's position in seeding (0, 1, ...), for splitting totals across locations."""
    return int(location.record.get("_seedIndex", 0))
