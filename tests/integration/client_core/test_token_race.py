"""Three processes, one token store, single-use refresh tokens: nobody sends a dead one.

Each process runs its own ``AsyncGHLClient`` + ``OAuthAuth`` on the same SQLite token store
file, against one fake OAuth server whose state is a shared SQLite file (refresh tokens die on
use; a dead one sent is recorded). Processes start together behind a barrier.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
import traceback
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import httpx

from ghlsync.client import AsyncGHLClient
from ghlsync.client.auth import Scope
from ghlsync.client.oauth import OAuthAuth
from ghlsync.client.token_store import TokenRecord, TokenStore
from tests.unit.client_core.fake_oauth import CLIENT_ID, CLIENT_SECRET, COMPANY, FakeOAuthServer

PROCESSES = 3


def _worker(
    store_path: str,
    server_path: str,
    lifetime: float,
    rounds: int,
    skew: float,
    barrier: Barrier,
    results: Any,
) -> None:
    try:
        server = FakeOAuthServer(Path(server_path), lifetime=lifetime)
        store = TokenStore(store_path, busy_timeout=60)
        auth = OAuthAuth(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, store=store, refresh_skew=skew
        )

        async def run() -> tuple[int, bool]:
            async with AsyncGHLClient(
                auth, transport=httpx.MockTransport(server), limiter=None
            ) as client:
                barrier.wait()
                done = 0
                for i in range(rounds):
                    await client.request("GET", f"/contacts/c{i}", location_id="L1")
                    done += 1
                    if rounds > 1:
                        await asyncio.sleep(random.uniform(0, 0.04))
                # the token this process ends with is valid: one more call with it succeeds
                await auth.token_for(Scope("L1"))
                final = await client.request("GET", "/contacts/final", location_id="L1")
                return done, bool(final and final["ok"])

        done, valid = asyncio.run(run())
        store.close()
        results.put(("ok", done, valid))
    except BaseException:
        results.put(("error", traceback.format_exc(), False))


def _race(tmp_path: Path, *, lifetime: float, rounds: int, skew: float) -> FakeOAuthServer:
    server = FakeOAuthServer(tmp_path / "server.sqlite3", lifetime=lifetime)
    access, refresh = server.seed(access_expired=True)
    store_path = tmp_path / "home" / "tokens.sqlite3"
    store = TokenStore(store_path)
    store.put(
        TokenRecord(
            kind="oauth",
            company_id=COMPANY,
            location_id="L1",
            access_token=access,
            refresh_token=refresh,
            expires_at=time.time() - 1,
            user_type="Location",
            updated_at=time.time(),
        )
    )
    store.close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(str(store_path), str(server.path), lifetime, rounds, skew, barrier, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [o[1] for o in outcomes if o[0] != "ok"]
    assert not errors, "\n".join(errors)
    assert [o[1:] for o in outcomes] == [(rounds, True)] * PROCESSES  # all ended with a valid token
    assert server.dead_uses == 0, server.events("dead_refresh")
    final = TokenStore(store_path)
    row = final.find("oauth", location_id="L1")
    final.close()
    assert row is not None and row.refresh_token in server.live_refresh_tokens()
    return server


def test_three_processes_refresh_an_expired_token_once(tmp_path: Path) -> None:
    server = _race(tmp_path, lifetime=86_399.0, rounds=1, skew=300.0)
    # all three wanted to refresh at once; the lock made one do it and two reuse its token
    assert len(server.events("refresh")) == 1


def test_three_processes_keep_refreshing_short_lived_tokens(tmp_path: Path) -> None:
    server = _race(tmp_path, lifetime=0.25, rounds=25, skew=0.05)
    refreshes = server.events("refresh")
    assert len(refreshes) >= 3  # the race really happened many times
    assert len({token for _, token in refreshes}) == len(refreshes)  # each refresh token once
