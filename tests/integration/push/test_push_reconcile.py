"""A create HighLevel applied but whose answer was lost is found (search lag on), never resent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from ghlsync.client.session import open_session
from ghlsync.config import Settings
from ghlsync.emulator import EmulatorServer
from ghlsync.mapping import parse_mapping
from ghlsync.push import PushConfig, push
from ghlsync.push.session import connection_for
from tests.integration.push.conftest import (
    MAPPING,
    admin,
    by_email,
    loc,
    people,
    set_duplicates,
    token,
    write_csv,
)


class LosesAnswers(httpx.AsyncHTTPTransport):
    """Sends every request; drops the answer of every ``every``-th create after the server
    applied it (what a reset or a timeout after sending looks like to the client)."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.creates = 0
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path in ("/contacts/", "/contacts"):
            self.creates += 1
            if self.creates % self.every == 0:
                await response.aread()
                self.lost += 1
                raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


def test_lost_create_answers_are_reconciled_through_lagging_search(
    server: EmulatorServer, tmp_path: Path, home: Path
) -> None:
    set_duplicates(server, True)  # a resend would be a duplicate
    admin(server, "PUT", "/settings", json={"searchIndexDelayMs": 1200})
    rows = people(12)
    headers = {"Authorization": f"Bearer {token(server)}", "Version": "2021-07-28"}
    twins = {}
    for row in rows:  # an older contact with the same email: the duplicate lookup finds it,
        # so only search (lagging) can tell which contact the lost create made
        answer = httpx.post(f"{server.base_url}/contacts/", headers=headers, timeout=10,
                            json={"locationId": loc(server), "email": row["email"]})  # fmt: skip
        twins[row["email"]] = answer.json()["contact"]["id"]
    source = write_csv(tmp_path / "p.csv", rows)
    settings = Settings(base_url=server.base_url, home=home)
    connection = connection_for(
        None, tokens={loc(server): token(server)}, base_url=server.base_url, rate_limit=False
    )
    transport = LosesAnswers(every=4)
    config = PushConfig(
        source=str(source),
        mapping=parse_mapping(MAPPING),
        locations=(loc(server),),
        index_lag_s=3.0,
    )

    async def run() -> object:
        async with open_session(settings, connection, transport=transport) as session:
            return await push(config, settings=settings, session=session)

    result = asyncio.run(run())
    report = result.locations[0]  # type: ignore[attr-defined]
    assert transport.lost == 3
    assert result.ok, report  # type: ignore[attr-defined]
    assert report.created == 12 and report.reconciled == 3
    searches = admin(server, "GET", "/counts")["operations"]["POST /contacts/search"]
    assert sum(searches.values()) > 3  # polled while the index lagged
    found = by_email(server)
    for row in rows:
        ours = [c for c in found[row["email"]] if c["id"] != twins[row["email"]]]
        assert len(found[row["email"]]) == 2 and len(ours) == 1, row["email"]
        assert ours[0]["tags"] == ["synced"] and ours[0]["firstName"] == row["first_name"]
