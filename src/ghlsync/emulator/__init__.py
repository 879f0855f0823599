"""ghlsync.emulator: a local HighLevel built from the official API contract.

Built on Starlette; imports nothing from ``ghlsync.client``, ``mapping`` or ``extract`` so that
one misunderstanding of the API cannot hide in both the client and its test double.

    from ghlsync.emulator import EmulatorServer, SeedOptions
    with EmulatorServer(SeedOptions(locations=2, contacts=500)) as server:
        server.base_url, server.state.locations[0]["token"]
"""

from __future__ import annotations

from ghlsync.emulator.app import create_app
from ghlsync.emulator.seeding import SeedOptions, SeedResult, build, seed_store
from ghlsync.emulator.server import EmulatorServer, ServeError, run_in_thread, serve
from ghlsync.emulator.settings import EmulatorSettings, parse_faults, parse_rate_limit
from ghlsync.emulator.state import Store

__all__ = [
    "EmulatorServer",
    "EmulatorSettings",
    "SeedOptions",
    "SeedResult",
    "ServeError",
    "Store",
    "build",
    "create_app",
    "parse_faults",
    "parse_rate_limit",
    "run_in_thread",
    "seed_store",
    "serve",
]
