"""Seeded payments: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.helpers import pick, seed_clock, seeded_contacts
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Orders (``--count orders=N``, default 30), each paid one with a transaction."""
    contacts = seeded_contacts(location)
    if not contacts:
        return
    now_ms, span_ms = seed_clock(store, options)
    for _ in range(options.count("orders", 30)):
        contact = pick(rng, contacts)
        created = now_ms - int(rng.random() * span_ms)
        updated = created + int(rng.random() * (now_ms - created))
        amount = round(pick(rng, (19.0, 49.0, 99.0, 199.0, 499.0)) * (1 + int(rng.random() * 3)), 2)
        status = pick(rng, ("completed", "completed", "completed", "pending", "refunded"))
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        order_id = store.new_id(24).lower()
        source = pick(rng, ("funnel", "website", "invoice"))
        common = {
            "altId": location.id,
            "altType": "location",
            "contactId": contact["id"],
            "contactName": name,
            "contactEmail": contact.get("email") or "",
            "currency": "USD",
            "amount": amount,
            "liveMode": True,
            "createdAt": iso_from_ms(created),
            "updatedAt": iso_from_ms(updated),
            "_search": name,
        }
        location.collection("orders").put(
            {
                "id": order_id,
                "_id": order_id,
                **common,
                "subtotal": amount,
                "discount": 0,
                "status": status,
                "paymentStatus": "paid" if status == "completed" else "unpaid",
                "totalProducts": 1,
                "sourceType": source,
                "sourceName": f"{source.title()} checkout",
                "sourceId": store.new_id(24).lower(),
                "fulfillmentStatus": "unfulfilled",
                "onetimeProducts": 1,
                "recurringProducts": 0,
            }
        )
        if status == "pending":
            continue
        txn_id = store.new_id(24).lower()
        location.collection("transactions").put(
            {
                "id": txn_id,
                "_id": txn_id,
                **common,
                "status": "succeeded" if status == "completed" else "refunded",
                "amountRefunded": amount if status == "refunded" else 0,
                "entityType": "order",
                "entityId": order_id,
                "entitySourceType": source,
                "entitySourceName": f"{source.title()} checkout",
                "paymentProviderType": "stripe",
                "chargeId": "ch_" + store.new_id(24),
                "fulfilledAt": iso_from_ms(created),
            }
        )
