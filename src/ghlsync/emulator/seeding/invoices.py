"""Seeded invoices: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes._listing import DAY_MS
from ghlsync.emulator.seeding.helpers import pick, seed_clock, seeded_contacts
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

ITEMS = (
    ("Consultation", 150.0),
    ("Monthly retainer", 900.0),
    ("Setup fee", 250.0),
    ("Audit", 480.0),
)


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Invoices (``--count invoices=N``, default 40) for seeded contacts."""
    contacts = seeded_contacts(location)
    if not contacts:
        return
    now_ms, span_ms = seed_clock(store, options)
    record = location.record
    for number in range(1, options.count("invoices", 40) + 1):
        contact = pick(rng, contacts)
        created = now_ms - int(rng.random() * span_ms)
        updated = created + int(rng.random() * (now_ms - created))
        lines = [pick(rng, ITEMS) for _ in range(1 + int(rng.random() * 3))]
        total = round(sum(price for _, price in lines), 2)
        status = pick(rng, ("paid", "paid", "sent", "draft", "void", "partially_paid"))
        paid = (
            total if status == "paid" else round(total / 2, 2) if status == "partially_paid" else 0
        )
        name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
        invoice_id = store.new_id(24).lower()
        location.collection("invoices").put(
            {
                "id": invoice_id,
                "_id": invoice_id,
                "status": status,
                "liveMode": True,
                "amountPaid": paid,
                "altId": location.id,
                "altType": "location",
                "name": f"Invoice {number:05d}",
                "title": "INVOICE",
                "businessDetails": {"name": record.get("name"), "address": record.get("address")},
                "invoiceNumber": number,
                "currency": "USD",
                "contactDetails": {
                    "id": contact["id"],
                    "name": name,
                    "email": contact.get("email") or "",
                    "phoneNo": contact.get("phone") or "",
                },
                "issueDate": iso_from_ms(created)[:10],
                "dueDate": iso_from_ms(created + 14 * DAY_MS)[:10],
                "invoiceItems": [
                    {"name": item, "amount": price, "qty": 1, "currency": "USD"}
                    for item, price in lines
                ],
                "total": total,
                "amountDue": round(total - paid, 2),
                "totalSummary": {"subTotal": total, "discount": 0, "tax": 0},
                "createdAt": iso_from_ms(created),
                "updatedAt": iso_from_ms(updated),
            }
        )
