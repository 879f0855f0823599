"""Seeded custom fields: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.custom_fields import make_field
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms, ms_from_iso

# --------------------------------------------------------------------------- seed
SEED_FIELDS: tuple[tuple[str, str, list[str]], ...] = (
    ("Membership Status", "SINGLE_OPTIONS", ["active", "paused", "cancelled"]),
    ("Notes Summary", "LARGE_TEXT", []),
    ("Company Size", "NUMERICAL", []),
    ("Alternate Phone", "PHONE", []),
    ("Lifetime Value", "MONETORY", []),
    ("Interests", "CHECKBOX", ["yoga", "pilates", "running", "swimming"]),
    ("Preferred Channel", "RADIO", ["email", "sms", "call"]),
    ("Services", "MULTIPLE_OPTIONS", ["cleaning", "whitening", "implants", "braces"]),
    ("Renewal Date", "DATE", []),
    ("Referral Code", "TEXT", []),
    ("Household", "TEXTBOX_LIST", []),
    ("Contract", "FILE_UPLOAD", []),
    ("Consent Signature", "SIGNATURE", []),
    ("Billing Email", "EMAIL", []),
)


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """The seeded field definitions, dated a little after their location."""
    created_ms = ms_from_iso(location.record.get("dateAdded") or store.now())
    definitions = [
        (name, data_type, picklist, "contact") for name, data_type, picklist in SEED_FIELDS
    ]
    definitions += [
        ("Deal Source", "TEXT", [], "opportunity"),
        ("Deal Priority", "SINGLE_OPTIONS", ["low", "medium", "high"], "opportunity"),
    ]
    for position, (name, data_type, picklist, model) in enumerate(definitions):
        make_field(
            store,
            location.id,
            name=name,
            data_type=data_type,
            options=picklist,
            position=position if model == "contact" else 0,
            model=model,
            date_added=iso_from_ms(created_ms + rng.randrange(86_400_000)),
        )
