"""``GHLClient`` hands records across its thread boundary a page at a time."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ghlsync.client import GHLClient


def _transport(contacts: int, page_size: int) -> httpx.MockTransport:
    records = [{"id": f"c{i}", "searchAfter": [i, f"c{i}"]} for i in range(contacts)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(json.loads(request.content)["page"])
        chunk = records[(page - 1) * page_size : page * page_size]
        return httpx.Response(200, json={"contacts": chunk, "total": contacts})

    return httpx.MockTransport(handler)


def test_iterate_crosses_once_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    with GHLClient("pit-x", transport=_transport(250, 100), limiter=None) as client:
        hops: list[Any] = []
        run = client._runner.run

        def counted(coro: Any) -> Any:
            hops.append(coro)
            return run(coro)

        monkeypatch.setattr(client._runner, "run", counted)
        stream = client.contacts.iterate("loc1", page_size=100)
        seen = []
        for record in stream:
            seen.append(record["id"])
            assert stream.page is not None and record in stream.page.records
        assert seen == [f"c{i}" for i in range(250)]
        assert len(hops) == 4  # three pages (100, 100, 50) and the end, not 250 records
        assert stream.progress.records == 250 and stream.progress.done


def test_collect_and_a_started_stream_still_work() -> None:
    with GHLClient("pit-x", transport=_transport(30, 10), limiter=None) as client:
        assert len(client.contacts.iterate("loc1", page_size=10).collect()) == 30
        assert [len(p.records) for p in client.contacts.pages("loc1", page_size=10)] == [10] * 3


def test_a_misspelt_request_option_is_refused() -> None:
    with (
        GHLClient("pit-x", transport=_transport(1, 10), limiter=None) as client,
        pytest.raises(TypeError, match="locationid"),
    ):
        client.request("GET", "/users/", locationid="loc1")  # type: ignore[call-arg]
