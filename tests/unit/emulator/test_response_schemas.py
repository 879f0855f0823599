"""Responses of the contacts, locations and OAuth endpoints against the specs' schemas.

The three knowing differences (docs/emulator.md) are patched here, in one place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.unit.emulator.conftest import Emu

APPS = Path(__file__).resolve().parents[3].parent / "shared" / "ghl-api" / "apps"
pytestmark = pytest.mark.skipif(not APPS.exists(), reason="../shared/ghl-api not present")


def _schema(app: str, path: str, method: str, status: int) -> dict[str, Any]:
    spec = json.loads((APPS / f"{app}.json").read_text())
    components = spec["components"]["schemas"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                name = ref.rsplit("/", 1)[-1]
                return inline(components[name]) if ref.startswith("#/") else {}
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    response = spec["paths"][path][method]["responses"][str(status)]
    schema: dict[str, Any] = inline(response["content"]["application/json"]["schema"])
    return schema


def _patch_known_quirks(body: Any) -> Any:
    """customFields values keep their type; bulk-tag responses are objects (spec example)."""
    if isinstance(body, dict):
        out = {}
        for key, value in body.items():
            if key == "customFields" and isinstance(value, list):
                value = [{**item, "value": str(item.get("value"))} for item in value]
            elif key == "responses" and isinstance(value, list):
                value = [json.dumps(item) for item in value]
            out[key] = _patch_known_quirks(value)
        return out
    if isinstance(body, list):
        return [_patch_known_quirks(item) for item in body]
    return body


def _check(app: str, path: str, method: str, response: Any) -> None:
    schema = _schema(app, path, method, response.status_code)
    jsonschema.validate(_patch_known_quirks(response.json()), schema)


async def test_contact_responses_match_the_spec(emu: Emu) -> None:
    h, loc, c = emu.headers(), emu.loc(), emu.client
    created = await c.post(
        "/contacts/",
        json={
            "locationId": loc,
            "email": "schema@example.com",
            "tags": ["x"],
            "dnd": True,
            "dndSettings": {"SMS": {"status": "active"}},
            "customFields": [{"key": "company_size", "field_value": 3}],
        },
        headers=h,
    )
    _check("contacts", "/contacts/", "post", created)
    cid = created.json()["contact"]["id"]
    _check("contacts", "/contacts/{contactId}", "get", await c.get(f"/contacts/{cid}", headers=h))
    _check(
        "contacts",
        "/contacts/{contactId}",
        "put",
        await c.put(f"/contacts/{cid}", json={"firstName": "Z"}, headers=h),
    )
    _check(
        "contacts",
        "/contacts/upsert",
        "post",
        await c.post(
            "/contacts/upsert", json={"locationId": loc, "email": "schema@example.com"}, headers=h
        ),
    )
    _check(
        "contacts",
        "/contacts/",
        "get",
        await c.get("/contacts/", params={"locationId": loc}, headers=h),
    )
    _check(
        "contacts",
        "/contacts/{contactId}/tags",
        "post",
        await c.post(f"/contacts/{cid}/tags", json={"tags": ["y"]}, headers=h),
    )
    _check(
        "contacts",
        "/contacts/{contactId}/notes",
        "post",
        await c.post(f"/contacts/{cid}/notes", json={"body": "n"}, headers=h),
    )
    _check(
        "contacts",
        "/contacts/{contactId}/tasks",
        "post",
        await c.post(
            f"/contacts/{cid}/tasks",
            json={"title": "t", "dueDate": "2027-01-01T00:00:00Z", "completed": False},
            headers=h,
        ),
    )
    _check(
        "contacts",
        "/contacts/bulk/tags/update/{type}",
        "post",
        await c.post(
            "/contacts/bulk/tags/update/add",
            json={"locationId": loc, "contacts": [cid, "missing"], "tags": ["q"]},
            headers=h,
        ),
    )
    _check(
        "contacts", "/contacts/{contactId}", "delete", await c.delete(f"/contacts/{cid}", headers=h)
    )


async def test_location_and_oauth_responses_match_the_spec(emu: Emu) -> None:
    h, loc, c = emu.headers(), emu.loc(), emu.client
    _check(
        "locations", "/locations/{locationId}", "get", await c.get(f"/locations/{loc}", headers=h)
    )
    _check(
        "locations",
        "/locations/search",
        "get",
        await c.get("/locations/search", headers=emu.agency),
    )
    _check(
        "locations",
        "/locations/{locationId}/tags",
        "get",
        await c.get(f"/locations/{loc}/tags", headers=h),
    )
    _check(
        "locations",
        "/locations/{locationId}/customFields",
        "get",
        await c.get(f"/locations/{loc}/customFields", headers=h),
    )
    _check(
        "locations",
        "/locations/{locationId}/customFields",
        "post",
        await c.post(
            f"/locations/{loc}/customFields", json={"name": "N", "dataType": "TEXT"}, headers=h
        ),
    )
    _check(
        "oauth",
        "/oauth/installedLocations",
        "get",
        await c.get(
            "/oauth/installedLocations",
            params={"companyId": emu.state.company_id, "appId": emu.state.app_id},
            headers=emu.agency,
        ),
    )
    _check(
        "oauth",
        "/oauth/locationToken",
        "post",
        await c.post(
            "/oauth/locationToken",
            data={"companyId": emu.state.company_id, "locationId": loc},
            headers=emu.agency,
        ),
    )
    code = (await c.get("/_emulator/oauth/authorize")).json()["code"]
    _check(
        "oauth",
        "/oauth/token",
        "post",
        await c.post(
            "/oauth/token",
            data={
                "client_id": emu.state.client_id,
                "client_secret": emu.state.client_secret,
                "grant_type": "authorization_code",
                "code": code,
            },
        ),
    )
