"""Invoices, products, payment orders and transactions: ``offset`` + ``limit`` lists.

Wire shapes: ``apps/invoices.json``, ``apps/products.json``, ``apps/payments.json``. These take
the location as ``altId`` + ``altType=location`` (products as ``locationId``). Page-size maxima
are not in the specs: the default of 100 is conservative, and a short page only ends the read
when no total is reported.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypedDict, cast

from ghlsync.client.pagination import OffsetPaginator, PageStream
from ghlsync.client.resources._base import Resource, enveloped, records_from, segment, to_wire
from ghlsync.client.resources.wire import INFERRED, DateTime

PAGE = 100


class Invoice(TypedDict, total=False):
    _id: str
    altId: str
    altType: str
    contactId: str
    currency: str
    amount: float
    status: str
    liveMode: bool
    createdAt: DateTime
    updatedAt: DateTime
    name: str
    title: str
    invoiceNumber: str | float
    issueDate: DateTime
    dueDate: DateTime
    total: float
    amountPaid: float
    amountDue: float
    contactDetails: dict[str, Any]
    invoiceItems: list[dict[str, Any]]


class Product(TypedDict, total=False):
    _id: str
    name: str
    description: str
    productType: str
    availableInStore: bool
    image: str
    slug: str
    createdAt: DateTime
    updatedAt: DateTime
    locationId: Annotated[str, INFERRED]


class Payment(TypedDict, total=False):
    """What orders and transactions share (``/payments/...``)."""

    _id: str
    altId: str
    altType: str
    contactId: str
    currency: str
    amount: float
    #: a string, or an object on some payment providers' records
    status: str | dict[str, Any]
    liveMode: bool
    createdAt: DateTime
    updatedAt: DateTime


class Order(Payment, total=False):
    contactName: str
    contactEmail: str
    subtotal: float
    discount: float
    totalProducts: int
    sourceType: str
    sourceName: str
    sourceId: str
    fulfillmentStatus: str
    paymentStatus: Annotated[str, INFERRED]


class Transaction(Payment, total=False):
    contactName: str
    contactEmail: str
    entityType: str
    entityId: str
    entitySourceType: str
    entitySourceName: str
    subscriptionId: str
    chargeId: str
    paymentProviderType: str
    amountRefunded: float


def _day(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()[:10]


class InvoicesResource(Resource):
    """``client.invoices``: ``GET /invoices/`` (``altId``/``altType``/``limit``/``offset``)."""

    def pages(
        self,
        /,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        status: str | None = None,
        contact_id: str | None = None,
        page_size: int = PAGE,
        **filters: Any,
    ) -> PageStream:
        """``since`` / ``until`` are HighLevel's ``startAt`` / ``endAt`` (``YYYY-MM-DD``)."""
        params = to_wire(
            {
                "alt_id": location_id,
                "alt_type": "location",
                "start_at": _day(since),
                "end_at": _day(until),
                "status": status,
                "contact_id": contact_id,
                **filters,
            }
        )
        paginator = OffsetPaginator(
            self._get("/invoices/", params, location_id=location_id),
            records="invoices",
            page_size=page_size,
            total=("total",),
        )
        return self._stream(paginator)

    iterate = records_from(pages)


class ProductsResource(Resource):
    """``client.products``: ``GET /products/`` (``locationId``/``limit``/``offset``) and get."""

    async def get(self, product_id: str, location_id: str) -> Product:
        """``GET /products/{productId}?locationId=``."""
        path = f"/products/{segment(product_id)}"
        response = await self._call(
            "GET", path, params={"locationId": location_id}, location_id=location_id
        )
        return cast(Product, enveloped(response, "product"))

    def pages(
        self, location_id: str, *, search: str | None = None, page_size: int = PAGE
    ) -> PageStream:
        """``total`` of this endpoint is a list of stats, not a count, so it is not read."""
        params = to_wire({"location_id": location_id, "search": search})
        paginator = OffsetPaginator(
            self._get("/products/", params, location_id=location_id),
            records="products",
            page_size=page_size,
            total=(),
        )
        return self._stream(paginator)

    iterate = records_from(pages)


class PaymentsResource(Resource):
    """``client.payments``: orders and transactions (``altId``/``altType``, ``offset``)."""

    def _pages(
        self,
        path: str,
        location_id: str,
        *,
        since: dt.date | str | None,
        until: dt.date | str | None,
        page_size: int,
        filters: dict[str, Any],
    ) -> PageStream:
        params = to_wire(
            {
                "location_id": location_id,
                "alt_id": location_id,
                "alt_type": "location",
                "start_at": _day(since),
                "end_at": _day(until),
                **filters,
            }
        )
        paginator = OffsetPaginator(
            self._get(path, params, location_id=location_id),
            records="data",
            page_size=page_size,
            total=("totalCount",),
        )
        return self._stream(paginator)

    def order_pages(
        self,
        /,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        page_size: int = PAGE,
        **filters: Any,
    ) -> PageStream:
        """``GET /payments/orders``; ``since`` / ``until`` are ``startAt`` / ``endAt``."""
        return self._pages(
            "/payments/orders",
            location_id,
            since=since,
            until=until,
            page_size=page_size,
            filters=filters,
        )

    iterate_orders = records_from(order_pages)

    def transaction_pages(
        self,
        /,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        page_size: int = PAGE,
        **filters: Any,
    ) -> PageStream:
        """``GET /payments/transactions``; ``since`` / ``until`` are ``startAt`` / ``endAt``."""
        return self._pages(
            "/payments/transactions",
            location_id,
            since=since,
            until=until,
            page_size=page_size,
            filters=filters,
        )

    iterate_transactions = records_from(transaction_pages)
