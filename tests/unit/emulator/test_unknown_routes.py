"""Unknown routes answer as NestJS does: 404 ``Cannot METHOD /path`` (issue 16 item 6).

On main, ``GET /invoices/template`` (HighLevel's template list) reached the invoice route and
answered "Invoice not found", and a method a path does not serve was Starlette's 405.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ghlsync.emulator.app import API_ROUTES, not_served_routes, spec_operations

from .conftest import Emu

APPS = Path(__file__).resolve().parents[3].parent / "shared" / "ghl-api" / "apps"


def _cannot(method: str, path: str) -> str:
    return f"Cannot {method} {path}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/invoices/template"),
        ("GET", "/invoices/schedule"),
        ("GET", "/invoices/settings"),
        ("GET", "/products/inventory"),
        ("GET", "/conversations/messages/export"),
        ("GET", "/calendars/blocked-slots"),
    ],
)
async def test_a_literal_highlevel_path_is_not_caught_by_an_id_route(
    emu: Emu, method: str, path: str
) -> None:
    response = await emu.client.request(method, path, headers=emu.headers())
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == _cannot(method, path) and body["error"] == "Not Found"
    assert body["statusCode"] == 404


async def test_the_id_route_still_serves_ids(emu: Emu) -> None:
    response = await emu.client.get(
        "/invoices/nosuchinvoice0000000",
        params={"altId": emu.loc(), "altType": "location"},
        headers=emu.headers(),
    )
    assert response.json()["message"] != _cannot("GET", "/invoices/nosuchinvoice0000000")
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/contacts/"),  # the path exists for GET and POST
        ("PATCH", "/contacts/search"),
        ("POST", "/opportunities/pipelines"),  # GET-only; no POST /opportunities/{id}
        ("GET", "/nothing/here"),
        ("POST", "/_emulator/health"),
        ("GET", "/_emulator/nothing"),
    ],
)
async def test_a_method_or_path_not_served_is_404_cannot_not_405(
    emu: Emu, method: str, path: str
) -> None:
    response = await emu.client.request(method, path, headers=emu.headers())
    assert response.status_code == 404, response.text
    assert response.json()["message"] == _cannot(method, path)


def test_only_unimplemented_literal_paths_get_a_404_route() -> None:
    """The 404 routes are computed from the route table: a route module that implements
    ``GET /invoices/template`` later removes its 404 route by itself."""
    routes = list(API_ROUTES)
    shadows = {(route.method, route.path) for route in not_served_routes(routes)}  # type: ignore[attr-defined]
    assert ("GET", "/invoices/template") in shadows
    implemented = {
        (method, getattr(route, "path", ""))
        for route in routes
        for method in getattr(route, "methods", None) or ()
    }
    assert not shadows & implemented


def test_the_packaged_operation_list_matches_the_specs() -> None:
    """``spec_operations.txt`` is every v2 operation of ``../shared/ghl-api/apps``; regenerate
    it from the specs when they change."""
    if not APPS.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{APPS} is missing")
        pytest.skip("../shared/ghl-api/apps not present")
    expected = set()
    for source in APPS.glob("*.json"):
        for path, item in json.loads(source.read_text())["paths"].items():
            for method in item:
                if method in ("get", "post", "put", "delete", "patch"):
                    expected.add((method.upper(), path))
    assert set(spec_operations()) == expected
    assert len(expected) == 576
