"""Products (``apps/products.json``): ``GET /products/`` (``locationId``, ``limit``, ``offset``,
``search``) and get. ``total`` is ``[{total}]``, as ``ListProductsStats`` documents it;
products carry ``createdAt``/``updatedAt``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ghlsync.emulator.common import ANY_TOKEN, ApiError, int_param, ok, store_of
from ghlsync.emulator.routes._listing import location_query

READ = "products.readonly"


def view(product: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in product.items() if key != "_search"}


async def list_products(request: Request) -> Response:
    location_id = location_query(request, READ, token_kinds=ANY_TOKEN)
    limit = int_param(request, "limit", 10, minimum=1, maximum=100)
    offset = int_param(request, "offset", 0)
    text = (request.query_params.get("search") or "").strip().lower()
    items = [
        product
        for product in store_of(request).collection(location_id, "products")
        if not text or text in product["name"].lower()
    ]
    descending = request.query_params.get("sortOrder", "desc") == "desc"
    items.sort(key=lambda product: (product["createdAt"], product["_id"]), reverse=descending)
    page = [view(product) for product in items[offset : offset + limit]]
    return ok({"products": page, "total": [{"total": len(items)}]})


async def get_product(request: Request) -> Response:
    location_id = location_query(request, READ, token_kinds=ANY_TOKEN)
    product = store_of(request).get(location_id, "products", request.path_params["productId"])
    if product is None:
        raise ApiError(400, "Product not found", error="Bad Request")
    return ok(view(product))


routes: list[BaseRoute] = [
    Route("/products/", list_products, methods=["GET"]),
    Route("/products/{productId}", get_product, methods=["GET"]),
]
