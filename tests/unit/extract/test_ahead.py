"""``engine.ahead``: pages read one step ahead keep their order, errors and early stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ghlsync.extract.engine import ahead


async def test_order_kept_and_next_item_fetched_while_current_one_is_used() -> None:
    fetched: list[int] = []

    async def pages() -> AsyncIterator[int]:
        for i in range(4):
            fetched.append(i)
            yield i

    seen: list[tuple[int, list[int]]] = []
    async for page in ahead(pages()):
        await asyncio.sleep(0)  # the consumer "works" on the page; the pump runs meanwhile
        await asyncio.sleep(0)
        seen.append((page, list(fetched)))
    assert [page for page, _ in seen] == [0, 1, 2, 3]
    assert seen[0][1][:2] == [0, 1]  # page 1 was already fetched while page 0 was in use


async def test_an_error_arrives_after_the_pages_before_it() -> None:
    async def pages() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("page 2 failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        async for page in ahead(pages()):
            got.append(page)
    assert got == [1]


async def test_stopping_early_stops_the_reader() -> None:
    closed = asyncio.Event()

    async def pages() -> AsyncIterator[int]:
        try:
            for i in range(1000):
                yield i
        finally:
            closed.set()

    stream = ahead(pages())
    async for page in stream:
        if page == 2:
            break
    await stream.aclose()
    await asyncio.wait_for(closed.wait(), 2)
