"""Invoices (``apps/invoices.json``): ``GET /invoices/`` (``altId``, ``altType=location``,
``limit``, ``offset`` all required) and ``GET /invoices/{invoiceId}``.

Invoices carry ``createdAt``/``updatedAt`` (``GetInvoiceResponseDto``); ``startAt``/``endAt``
filter on ``issueDate``, ``sortField=issueDate`` with ``sortOrder`` ``ascend``/``descend``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ANY_TOKEN, ApiError, int_param, ok, require, store_of
from ghlsync.emulator.routes._listing import alt_location, date_window, in_window

READ = "invoices.readonly"


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


routes: list[BaseRoute] = [
    Route("/invoices/", list_invoices, methods=["GET"]),
    Route("/invoices/{invoiceId}", get_invoice, methods=["GET"]),
]
