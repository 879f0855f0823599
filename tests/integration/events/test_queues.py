"""Both queue backends: dedupe by messageId, claim by identity in order, DLQ replay, prune."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ghlsync.events.queue import NewEvent
from ghlsync.events.queue.sqlite import SQLiteQueue

redis = pytest.importorskip("redis")
URL = "redis://127.0.0.1:6379/0"


def _event(
    message_id: str, identity: str, *, age_s: float = 0, dropped: str | None = None
) -> NewEvent:
    body = {"type": "identify", "userId": identity, "messageId": message_id}
    return NewEvent(
        "web", "LOC", message_id, identity, "identify", "", body, time.time() - age_s, dropped
    )


@pytest.fixture(params=["sqlite", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "sqlite":
        opened: Any = SQLiteQueue(tmp_path / "q.sqlite3")
        yield opened
        await opened.close()
        return
    from ghlsync.events.queue.redis import RedisQueue

    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    prefix = f"test-q-{uuid.uuid4().hex[:8]}"
    opened = RedisQueue(URL, prefix=prefix, consumer="t1")
    yield opened
    await opened.close()
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


async def test_dedupe_order_dlq_replay_and_prune(queue: Any) -> None:
    assert await queue.enqueue([_event("m1", "a"), _event("m2", "a"), _event("m3", "b")]) == 3
    assert await queue.enqueue([_event("m1", "a")]) == 0, "same messageId: stored once"
    groups = await queue.claim(time.time(), set(), 10, 100)
    by_identity = {g.identity: [e.message_id for e in g.events] for g in groups}
    assert by_identity == {"a": ["m1", "m2"], "b": ["m3"]}
    assert await queue.claim(time.time(), {("LOC", "a"), ("LOC", "b")}, 10, 100) == []

    group_a = next(g for g in groups if g.identity == "a")
    group_b = next(g for g in groups if g.identity == "b")
    await queue.complete(group_a, {"status": 200}, 200)
    dead = await queue.fail(group_b, "HTTP 422", 422, None, 5)
    assert [e.message_id for e in dead] == ["m3"]
    assert [e.message_id for e in await queue.recent(10, state="dead")] == ["m3"]
    assert (await queue.depth()).get("LOC", (0, None))[0] == 0

    assert await queue.replay(None) == 1
    again = await queue.claim(time.time(), set(), 10, 100)
    assert [[e.message_id for e in g.events] for g in again] == [["m3"]]
    await queue.complete(again[0], {}, 200)

    await queue.enqueue(
        [_event("old", "c", age_s=8 * 86400, dropped="page"), _event("new", "d", dropped="page")]
    )
    removed = await queue.prune(time.time() - 7 * 86400)
    assert removed >= 1
    kept = {e.message_id for e in await queue.recent(50)}
    assert "old" not in kept and "new" in kept
