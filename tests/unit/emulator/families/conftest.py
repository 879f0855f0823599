"""In-process emulator with every family seeded (small), for the non-contact route tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ghlsync.emulator import SeedOptions
from tests.unit.emulator.conftest import Emu, make_emu

OPTIONS = SeedOptions(
    locations=2,
    contacts=60,
    opportunities=70,
    seed=5,
    counts={"appointments": 50, "conversations": 25, "form_submissions": 23, "invoices": 17},
)


@pytest.fixture
async def emu() -> AsyncIterator[Emu]:
    instance = await make_emu(OPTIONS)
    async with instance.client:
        yield instance
