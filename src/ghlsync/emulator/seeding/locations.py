"""Seeded locations: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.locations import ensure_tags
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

SEED_TAGS = (
    "lead",
    "customer",
    "vip",
    "newsletter",
    "webinar",
    "referral",
    "cold",
    "hot",
    "facebook-ad",
    "google-ad",
    "appointment-booked",
    "no-show",
    "churned",
    "trial",
    "wholesale",
)


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    ensure_tags(store, location.id, list(SEED_TAGS))
