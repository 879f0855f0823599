"""Payments (``apps/payments.json``): orders and transactions, ``altId`` (+ ``altType``),
``limit``/``offset``, ``startAt``/``endAt`` on ``createdAt``; ``{data, totalCount}``; one order
or transaction by id (the record itself, as ``GetOrderResponseSchema``/``GetTxnResponseSchema``).

Both carry ``createdAt``/``updatedAt`` (``OrderResponseSchema``, ``TxnResponseSchema``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ApiError, int_param, ok, store_of
from ghlsync.emulator.routes._listing import alt_location, date_window, in_window

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
