"""Seeded associations: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.associations import entity_id, make_association, make_relation
from ghlsync.emulator.seeding.helpers import seeded_contacts
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store


# --------------------------------------------------------------------------- seed
def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """``contact_pet`` (contact "Owner" ↔ pet "Pet"), each seeded pet linked to a contact."""
    association = make_association(
        store, location.id, "contact_pet", ("contact", "Owner"), ("custom_objects.pet", "Pet")
    )
    contacts = seeded_contacts(location)
    if not contacts:
        return
    pets = sorted(location.collection("object_records"), key=entity_id)
    for pet in pets:
        owner = contacts[int(rng.random() * len(contacts))]
        make_relation(store, location.id, association, owner["id"], pet["id"])
