"""Payments (``apps/payments.json``): orders and transactions, ``altId`` (+ ``altType``),
``limit``/``offset``, ``startAt``/``endAt`` on ``createdAt``; ``{data, totalCount}``; one order
or transaction by id (the record itself, as ``GetOrderResponseSchema``/``GetTxnResponseSchema``).

Both carry ``createdAt``/``updatedAt`` (``OrderResponseSchema``, ``TxnResponseSchema``).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, ok, store_of
from ghlsync.emulator.routes._listing import (
    alt_location,
    date_window,
    in_window,
    pick,
    seed_clock,
    seeded_contacts,
)
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

ORDERS = "payments/orders.readonly"
TRANSACTIONS = "payments/transactions.readonly"


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "_search"}  # keeps _id


def list_handler(
    kind: str, scope: str, filters: tuple[str, ...], *, type_required: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        q = request.query_params
        location_id = alt_location(request, scope, type_required=type_required)
        if q.get("locationId") and q["locationId"] != location_id:
            raise ApiError(403, "The token does not have access to this location.")
        limit = int_param(request, "limit", 10, minimum=1, maximum=100)
        offset = int_param(request, "offset", 0)
        start_ms, end_ms = date_window(request)
        wanted = {name: q[name] for name in filters if q.get(name)}
        text = (q.get("search") or "").strip().lower()
        items = [
            item
            for item in store_of(request).collection(location_id, kind)
            if all(item.get(name) == value for name, value in wanted.items())
            and in_window(item["createdAt"], start_ms, end_ms)
            and (not text or text in str(item.get("_search", "")).lower())
        ]
        items.sort(key=lambda item: (item["createdAt"], item["_id"]), reverse=True)
        page = [view(item) for item in items[offset : offset + limit]]
        return ok({"data": page, "totalCount": len(items)})

    return handler


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


def get_handler(
    kind: str, scope: str, param: str, *, type_required: bool, missing: str
) -> Callable[[Request], Awaitable[Response]]:
    """One order or transaction of the ``altId`` location; 404 when it is not there."""

    async def handler(request: Request) -> Response:
        location_id = alt_location(request, scope, type_required=type_required)
        q = request.query_params
        if q.get("locationId") and q["locationId"] != location_id:
            raise ApiError(403, "The token does not have access to this location.")
        item = store_of(request).collection(location_id, kind).get(request.path_params[param])
        if item is None:
            raise ApiError(404, missing)
        return ok(view(item))

    return handler


routes: list[BaseRoute] = [
    Route(
        "/payments/orders/{orderId}",
        get_handler("orders", ORDERS, "orderId", type_required=False, missing="Order not found"),
        methods=["GET"],
    ),
    Route(
        "/payments/transactions/{transactionId}",
        get_handler(
            "transactions",
            TRANSACTIONS,
            "transactionId",
            type_required=True,
            missing="Transaction not found",
        ),
        methods=["GET"],
    ),
    Route(
        "/payments/orders",
        list_handler(
            "orders",
            ORDERS,
            ("status", "paymentStatus", "contactId", "sourceId"),
            type_required=False,
        ),
        methods=["GET"],
    ),
    Route(
        "/payments/transactions",
        list_handler(
            "transactions",
            TRANSACTIONS,
            ("contactId", "entityId", "entitySourceType", "subscriptionId"),
            type_required=True,
        ),
        methods=["GET"],
    ),
]
