"""POST /contacts/search and the deprecated GET /contacts/ cursor list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ghlsync.emulator import SeedOptions
from tests.unit.emulator.conftest import Emu, make_emu


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def big() -> AsyncIterator[Emu]:
    instance = await make_emu(SeedOptions(locations=1, contacts=12_000, seed=3))
    async with instance.client:
        yield instance


async def _search(emu: Emu, **body: Any) -> dict[str, Any]:
    response = await emu.client.post(
        "/contacts/search", json={"locationId": emu.loc(), **body}, headers=emu.headers()
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_search_after_reads_past_the_window_exactly_once(big: Emu) -> None:
    sort = [{"field": "dateUpdated", "direction": "asc"}]
    seen: list[str] = []
    stamps: list[str] = []
    cursor = None
    while True:
        body: dict[str, Any] = {"pageLimit": 500, "sort": sort}
        if cursor is not None:
            body["searchAfter"] = cursor
        page = await _search(big, **body)
        # HighLevel's answer: {contacts, total, traceId} (GHL-NOTES §4)
        assert page["total"] == 12_000 and "count" not in page and page["traceId"]
        if not page["contacts"]:
            break
        seen += [c["id"] for c in page["contacts"]]
        stamps += [c["dateUpdated"] for c in page["contacts"]]
        cursor = page["contacts"][-1]["searchAfter"]
        assert isinstance(cursor[0], int) and cursor[1] == page["contacts"][-1]["id"]
    assert len(seen) == len(set(seen)) == 12_000
    assert stamps == sorted(stamps)


async def test_page_window_is_10000(big: Emu) -> None:
    ok = await _search(big, pageLimit=500, page=20)
    assert len(ok["contacts"]) == 500
    response = await big.client.post(
        "/contacts/search",
        json={"locationId": big.loc(), "pageLimit": 500, "page": 21},
        headers=big.headers(),
    )
    assert response.status_code == 422
    assert "searchAfter" in response.json()["message"][0]
    too_big = await big.client.post(
        "/contacts/search", json={"locationId": big.loc(), "pageLimit": 501}, headers=big.headers()
    )
    assert too_big.status_code == 422


async def test_pages_do_not_overlap_and_sort_desc(big: Emu) -> None:
    sort = [{"field": "dateAdded", "direction": "desc"}]
    one = await _search(big, pageLimit=100, page=1, sort=sort)
    two = await _search(big, pageLimit=100, page=2, sort=sort)
    ids = [c["id"] for c in one["contacts"] + two["contacts"]]
    assert len(set(ids)) == 200
    added = [c["dateAdded"] for c in one["contacts"] + two["contacts"]]
    assert added == sorted(added, reverse=True)


async def test_incremental_range_on_date_updated(emu: Emu) -> None:
    page = await _search(emu, pageLimit=500, sort=[{"field": "dateUpdated", "direction": "asc"}])
    middle = page["contacts"][len(page["contacts"]) // 2]["dateUpdated"]
    newer = await _search(
        emu,
        pageLimit=500,
        sort=[{"field": "dateUpdated", "direction": "asc"}],
        filters=[{"field": "dateUpdated", "operator": "range", "value": {"gt": middle}}],
    )
    assert newer["contacts"] and all(c["dateUpdated"] > middle for c in newer["contacts"])
    contact = await emu.create(email="late@example.com")
    again = await _search(
        emu,
        pageLimit=500,
        filters=[{"field": "dateUpdated", "operator": "range", "value": {"gt": middle}}],
    )
    assert again["total"] == newer["total"] + 1
    assert contact["id"] in {c["id"] for c in again["contacts"]}


async def test_filter_operators_and_groups(emu: Emu) -> None:
    a = await emu.create(
        email="alpha@example.com", firstName="Alpha", tags=["vip"], source="zz-src"
    )
    b = await emu.create(email="beta@example.com", firstName="Beta", tags=["vip", "x"])
    eq = await _search(
        emu,
        pageLimit=10,
        filters=[{"field": "email", "operator": "eq", "value": "ALPHA@example.com"}],
    )
    assert [c["id"] for c in eq["contacts"]] == [a["id"]] and eq["total"] == 1
    contains = await _search(
        emu, pageLimit=100, filters=[{"field": "firstName", "operator": "contains", "value": "lph"}]
    )
    assert a["id"] in {c["id"] for c in contains["contacts"]}
    tagged = await _search(
        emu, pageLimit=100, filters=[{"field": "tags", "operator": "eq", "value": "x"}]
    )
    assert [c["id"] for c in tagged["contacts"]] == [b["id"]]
    group = await _search(
        emu,
        pageLimit=100,
        filters=[
            {
                "group": "OR",
                "filters": [
                    {"field": "email", "operator": "eq", "value": "alpha@example.com"},
                    {"field": "email", "operator": "eq", "value": "beta@example.com"},
                ],
            },
            {"field": "source", "operator": "exists"},
        ],
    )
    assert [c["id"] for c in group["contacts"]] == [a["id"]]
    not_eq = await _search(
        emu,
        pageLimit=500,
        filters=[{"field": "source", "operator": "not_eq", "value": "zz-src"}],
    )
    assert a["id"] not in {c["id"] for c in not_eq["contacts"]}
    missing = await _search(
        emu, pageLimit=500, filters=[{"field": "customFields.nope", "operator": "not_exists"}]
    )
    assert missing["total"] == 32
    bad = await emu.client.post(
        "/contacts/search",
        json={
            "locationId": emu.loc(),
            "pageLimit": 1,
            "filters": [{"field": "email", "operator": "like", "value": "x"}],
        },
        headers=emu.headers(),
    )
    assert bad.status_code == 422


async def test_cursor_list_walks_everything_with_meta(emu: Emu) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"locationId": emu.loc(), "limit": 7}
    pages = 0
    while True:
        response = await emu.client.get("/contacts/", params=params, headers=emu.headers())
        assert response.status_code == 200
        body = response.json()
        pages += 1
        seen += [c["id"] for c in body["contacts"]]
        meta = body["meta"]
        assert meta["total"] == 30 and meta["currentPage"] == pages
        if not meta["nextPageUrl"]:
            assert meta["startAfter"] is None and meta["nextPage"] is None
            break
        params = {**params, "startAfter": meta["startAfter"], "startAfterId": meta["startAfterId"]}
    assert len(seen) == len(set(seen)) == 30
    too_many = await emu.client.get(
        "/contacts/", params={"locationId": emu.loc(), "limit": 101}, headers=emu.headers()
    )
    assert too_many.status_code == 422


async def test_totals_of_unindexed_filters_follow_writes(emu: Emu) -> None:
    body: dict[str, Any] = {
        "pageLimit": 5,
        "sort": [{"field": "dateUpdated", "direction": "asc"}],
        "filters": [{"field": "tags", "operator": "eq", "value": "fresh-tag"}],
    }
    assert (await _search(emu, **body))["total"] == 0
    await emu.create(email="fresh1@example.com", tags=["fresh-tag"])
    assert (await _search(emu, **body))["total"] == 1
    second = await emu.create(email="fresh2@example.com", tags=["fresh-tag"])
    assert (await _search(emu, **body))["total"] == 2
    await emu.client.delete(f"/contacts/{second['id']}", headers=emu.headers())
    assert (await _search(emu, **body))["total"] == 1


async def test_search_after_with_an_indexed_filter_and_a_candidate_set(emu: Emu) -> None:
    a = await emu.create(email="pair@example.com")
    await emu.client.put(
        f"/_emulator/locations/{emu.loc()}/settings", json={"allowDuplicateContact": True}
    )
    b = await emu.create(email="pair@example.com")
    sort = [{"field": "dateUpdated", "direction": "asc"}]
    filters = [{"field": "email", "operator": "eq", "value": "pair@example.com"}]
    first = await _search(emu, pageLimit=1, sort=sort, filters=filters)
    assert [c["id"] for c in first["contacts"]] == [a["id"]] and first["total"] == 2
    cursor = first["contacts"][-1]["searchAfter"]
    second = await _search(emu, pageLimit=1, sort=sort, filters=filters, searchAfter=cursor)
    assert [c["id"] for c in second["contacts"]] == [b["id"]]
    iso_cursor = [a["dateUpdated"], a["id"]]
    again = await _search(emu, pageLimit=1, sort=sort, filters=filters, searchAfter=iso_cursor)
    assert [c["id"] for c in again["contacts"]] == [b["id"]]


async def test_search_index_delay_hides_fresh_writes(emu: Emu) -> None:
    await emu.client.put("/_emulator/settings", json={"searchIndexDelayMs": 3000})
    contact = await emu.create(email="slow@example.com", firstName="Before")
    by_email = [{"field": "email", "operator": "eq", "value": "slow@example.com"}]
    assert (await _search(emu, pageLimit=10, filters=by_email))["contacts"] == []
    # GET by id is immediate, as on HighLevel
    got = await emu.client.get(f"/contacts/{contact['id']}", headers=emu.headers())
    assert got.status_code == 200
    await emu.client.post("/_emulator/clock/advance", json={"seconds": 3.1})
    shown = (await _search(emu, pageLimit=10, filters=by_email))["contacts"]
    assert [c["firstName"] for c in shown] == ["Before"]
    await emu.client.put(
        f"/contacts/{contact['id']}", json={"firstName": "After"}, headers=emu.headers()
    )
    shown = (await _search(emu, pageLimit=10, filters=by_email))["contacts"]
    assert [c["firstName"] for c in shown] == ["Before"]
    await emu.client.post("/_emulator/clock/advance", json={"seconds": 3.1})
    shown = (await _search(emu, pageLimit=10, filters=by_email))["contacts"]
    assert [c["firstName"] for c in shown] == ["After"]
