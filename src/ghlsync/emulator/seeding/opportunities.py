"""Seeded opportunities: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random
from typing import Any

from ghlsync.emulator.seeding.helpers import IsoStamps, seed_clock, seeded_contacts, seeded_users
from ghlsync.emulator.seeding.options import SeedOptions, location_index
from ghlsync.emulator.state import Entity, LocationState, Store

PIPELINES = (
    ("Sales Pipeline", ("New Lead", "Contacted", "Qualified", "Proposal Sent", "Negotiation")),
    ("Onboarding", ("Signed", "Kickoff", "Setup", "Live")),
    ("Renewals", ("Upcoming", "In Discussion", "Renewed")),
)
SOURCES = ("website", "facebook", "google ads", "referral", "walk-in", "")
DEAL_WORDS = ("Annual plan", "Starter package", "Premium service", "Consultation", "Retainer")


# --------------------------------------------------------------------------- seed
def _seed_values(
    rng: random.Random, fields: dict[str, Entity], source: str
) -> list[dict[str, Any]]:
    """Values for the seeded opportunity fields (Deal Source, Deal Priority) on most records."""
    values: list[dict[str, Any]] = []
    text, options = fields.get("TEXT"), fields.get("SINGLE_OPTIONS")
    if text is not None and source and rng.random() < 0.7:
        values.append({"id": text["id"], "fieldValue": source})
    if options is not None and options.get("picklistOptions") and rng.random() < 0.6:
        choices = options["picklistOptions"]
        values.append(
            {"id": options["id"], "fieldValue": choices[int(rng.random() * len(choices))]}
        )
    return values


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Three pipelines with stages; ``options.opportunities`` (split across locations)
    opportunities on seeded contacts, with values, statuses, stages and owners."""
    pipelines_ = location.collection("pipelines")
    stage_ids: list[tuple[str, list[str]]] = []
    for position, (name, stage_names) in enumerate(PIPELINES):
        pipeline_id = store.new_id()
        stage_objects = [
            {
                "id": f"{store.new_id(8)}-{index:04d}-{store.new_id(12)}".lower(),
                "name": stage,
                "position": index,
                "showInFunnel": True,
                "showInPieChart": True,
            }
            for index, stage in enumerate(stage_names)
        ]
        pipelines_.put(
            {
                "id": pipeline_id,
                "name": name,
                "stages": stage_objects,
                "showInFunnel": True,
                "showInPieChart": True,
                "locationId": location.id,
                "_position": position,
            }
        )
        stage_ids.append((pipeline_id, [str(stage["id"]) for stage in stage_objects]))
    count = options.per_location(options.count("opportunities", 0), location_index(location))
    contacts = seeded_contacts(location)
    if count <= 0 or not contacts:
        return
    users = seeded_users(location) or [""]
    now_ms, span_ms = seed_clock(store, options)
    stamp = IsoStamps()
    collection = location.collection("opportunities")
    ids = store.new_ids(count)
    fields = {
        field["dataType"]: field
        for field in location.collection("custom_fields")
        if field.get("model") == "opportunity"
    }
    for index in range(count):
        contact = contacts[index % len(contacts)]
        pipeline_id, stages = stage_ids[(index // len(contacts)) % len(stage_ids)]
        created = now_ms - int(rng.random() * span_ms)
        stage_at = created + int(rng.random() * (now_ms - created))
        updated = stage_at + int(rng.random() * (now_ms - stage_at))
        roll = rng.random()
        status = (
            "open"
            if roll < 0.55
            else "won"
            if roll < 0.8
            else "lost"
            if roll < 0.95
            else "abandoned"
        )
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        changed, updated_iso = stamp(stage_at), stamp(updated)
        source = SOURCES[int(rng.random() * len(SOURCES))]
        opp: Entity = {
            "id": ids[index],
            "name": f"{name or 'Deal'} - {DEAL_WORDS[int(rng.random() * len(DEAL_WORDS))]}",
            "monetaryValue": round(
                rng.choice((250, 500, 1200, 2500, 5000, 12000)) * (0.5 + rng.random()), 2
            ),
            "pipelineId": pipeline_id,
            "pipelineStageId": stages[int(rng.random() * len(stages))],
            "assignedTo": users[int(rng.random() * len(users))],
            "status": status,
            "source": source,
            "lastStatusChangeAt": changed,
            "lastStageChangeAt": changed,
            "lastActionDate": updated_iso,
            "createdAt": stamp(created),
            "updatedAt": updated_iso,
            "contactId": contact["id"],
            "locationId": location.id,
            "customFields": _seed_values(rng, fields, source),
            "followers": [],
        }
        collection.put(opp)
