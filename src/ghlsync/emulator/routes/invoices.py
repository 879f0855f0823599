"""Invoices (``apps/invoices.json``): ``GET /invoices/`` (``altId``, ``altType=location``,
``limit``, ``offset`` all required) and ``GET /invoices/{invoiceId}``.

Invoices carry ``createdAt``/``updatedAt`` (``GetInvoiceResponseDto``); ``startAt``/``endAt``
filter on ``issueDate``, ``sortField=issueDate`` with ``sortOrder`` ``ascend``/``descend``.
"""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ANY_TOKEN, ApiError, int_param, ok, require, store_of
from ghlsync.emulator.routes._listing import (
    DAY_MS,
    alt_location,
    date_window,
    in_window,
    pick,
    seed_clock,
    seeded_contacts,
)
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

READ = "invoices.readonly"
ITEMS = (
    ("Consultation", 150.0),
    ("Monthly retainer", 900.0),
    ("Setup fee", 250.0),
    ("Audit", 480.0),
)


def view(invoice: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in invoice.items() if key != "_search"}


async def list_invoices(request: Request) -> Response:
    q = request.query_params
    missing = [f"{name} should not be empty" for name in ("limit", "offset") if not q.get(name)]
    if missing:
        require(request, scope=READ, token_kinds=ANY_TOKEN)
        raise ApiError(422, missing)
    location_id = alt_location(request, READ, token_kinds=ANY_TOKEN)
    limit = int_param(request, "limit", 10, minimum=1, maximum=100)
    offset = int_param(request, "offset", 0)
    start_ms, end_ms = date_window(request)
    status, contact_id = q.get("status"), q.get("contactId")
    text = (q.get("search") or "").strip().lower()
    items = [
        invoice
        for invoice in store_of(request).collection(location_id, "invoices")
        if (not status or invoice["status"] == status)
        and (not contact_id or invoice["contactDetails"]["id"] == contact_id)
        and (not text or text in f"{invoice['name']} {invoice['contactDetails']['name']}".lower())
        and in_window(invoice["issueDate"], start_ms, end_ms)
    ]
    descending = (q.get("sortOrder") or "descend") == "descend"
    items.sort(key=lambda invoice: (invoice["issueDate"], invoice["_id"]), reverse=descending)
    return ok({"invoices": [view(i) for i in items[offset : offset + limit]], "total": len(items)})


async def get_invoice(request: Request) -> Response:
    location_id = alt_location(request, READ, token_kinds=ANY_TOKEN)
    invoice = store_of(request).get(location_id, "invoices", request.path_params["invoiceId"])
    if invoice is None:
        raise ApiError(400, "Invoice not found", error="Bad Request")
    return ok(view(invoice))


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


routes: list[BaseRoute] = [
    Route("/invoices/", list_invoices, methods=["GET"]),
    Route("/invoices/{invoiceId}", get_invoice, methods=["GET"]),
]
