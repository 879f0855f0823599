"""Resources through the real ``AsyncGHLClient`` (and its sync twin) over ``httpx.MockTransport``."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ghlsync.client import AsyncGHLClient, GHLClient

from .fakes import Call, SearchLocation


def _transport(handler: Any) -> httpx.MockTransport:
    """Adapts a ``Call`` handler (as the fakes use) to an httpx handler."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        call = Call(
            request.method, request.url.path, dict(request.url.params), body, None, None, None
        )
        return httpx.Response(200, json=handler(call))

    return httpx.MockTransport(respond)


async def test_create_reconciles_after_a_timeout_without_resending() -> None:
    sent: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            raise httpx.ReadTimeout("simulated", request=request)
        assert request.url.params["email"] == "a@b.co"
        return httpx.Response(200, json={"contact": {"id": "c7"}, "matchingField": "email"})

    async with AsyncGHLClient(
        "token", transport=httpx.MockTransport(respond), limiter=None
    ) as client:
        created = await client.contacts.create("L", email="a@b.co")
    assert created == {"contact": {"id": "c7"}, "reconciled": True}
    assert sent == ["POST /contacts/", "GET /contacts/search/duplicate"]


async def test_search_after_through_the_core() -> None:
    location = SearchLocation(10_600)
    async with AsyncGHLClient("token", transport=_transport(location), limiter=None) as client:
        stream = client.contacts.iterate("L")
        ids = [record["id"] async for record in stream]
    assert len(set(ids)) == 10_600
    assert stream.progress.pages == 22 and stream.progress.done


def test_the_sync_twin_iterates_and_reports_progress() -> None:
    with GHLClient("token", transport=_transport(SearchLocation(1_200)), limiter=None) as client:
        stream = client.contacts.iterate("L", page_size=500)
        ids = [record["id"] for record in stream]
        assert len(ids) == 1_200
        assert stream.progress.pages == 3
