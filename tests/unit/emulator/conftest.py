"""In-process emulator fixtures: the ASGI app driven by httpx.ASGITransport (no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ghlsync.emulator import EmulatorSettings, SeedOptions, build, create_app
from ghlsync.emulator.seeding import SeedResult
from ghlsync.emulator.state import Store


@dataclass
class Emu:
    client: httpx.AsyncClient
    store: Store
    state: SeedResult
    app: Any

    def loc(self, index: int = 0) -> str:
        return self.state.locations[index]["id"]

    def headers(self, index: int = 0, *, version: str = "2021-07-28") -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.state.locations[index]['token']}",
            "Version": version,
        }

    def token_headers(self, token: str, version: str = "2021-07-28") -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Version": version}

    @property
    def agency(self) -> dict[str, str]:
        return self.token_headers(self.state.agency_token)

    async def create(self, index: int = 0, **fields: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/contacts/",
            json={"locationId": self.loc(index), **fields},
            headers=self.headers(index),
        )
        assert response.status_code == 201, response.text
        contact: dict[str, Any] = response.json()["contact"]
        return contact


async def make_emu(
    options: SeedOptions | None = None, settings: EmulatorSettings | None = None
) -> Emu:
    options = options or SeedOptions(locations=2, contacts=60, seed=1)
    store, result = build(options)
    # these tests write and then read at once: the search index lag (on by default, as in
    # HighLevel, GHL-NOTES §4) is off here; tests of the lag turn it on
    default = EmulatorSettings(seed=options.seed, rate_limit=None, search_index_delay_ms=0)
    app = create_app(store, settings or default)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")
    return Emu(client=client, store=store, state=result, app=app)


@pytest.fixture
async def emu() -> AsyncIterator[Emu]:
    instance = await make_emu()
    async with instance.client:
        yield instance
