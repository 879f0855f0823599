"""Each family's list endpoint pages exactly as documented: sizes, meta, the stop condition."""

from __future__ import annotations

from typing import Any

from tests.unit.emulator.conftest import Emu

V415 = "2021-04-15"


async def test_opportunity_search_walks_by_start_after_cursor(emu: Emu) -> None:
    loc, seen, params = emu.loc(), [], {"location_id": emu.loc(), "limit": 10}
    total = None
    for _ in range(20):
        body = (
            await emu.client.get("/opportunities/search", params=params, headers=emu.headers())
        ).json()
        total = body["meta"]["total"]
        seen += [opp["id"] for opp in body["opportunities"]]
        assert len(body["opportunities"]) <= 10
        if body["meta"]["nextPageUrl"] is None:
            assert body["meta"]["startAfterId"] is None and body["meta"]["nextPage"] is None
            break
        params = {
            "location_id": loc,
            "limit": 10,
            "startAfter": body["meta"]["startAfter"],
            "startAfterId": body["meta"]["startAfterId"],
        }
    assert total == 35 == len(seen) == len(set(seen))


async def test_opportunity_search_pages_by_number_and_next_page_url(emu: Emu) -> None:
    first = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "limit": 20},
        headers=emu.headers(),
    )
    meta = first.json()["meta"]
    assert meta["currentPage"] == 1 and meta["nextPage"] == 2 and meta["prevPage"] is None
    follow = await emu.client.get(meta["nextPageUrl"], headers=emu.headers())
    second = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "limit": 20, "page": 2},
        headers=emu.headers(),
    )
    ids = [o["id"] for o in second.json()["opportunities"]]
    assert [o["id"] for o in follow.json()["opportunities"]] == ids
    assert len(ids) == 15 and second.json()["meta"]["nextPageUrl"] is None
    both = {o["id"] for o in first.json()["opportunities"]} | set(ids)
    assert len(both) == 35


async def test_opportunity_search_limit_and_filters(emu: Emu) -> None:
    too_many = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "limit": 101},
        headers=emu.headers(),
    )
    assert too_many.status_code == 422
    missing = await emu.client.get("/opportunities/search", headers=emu.headers())
    assert missing.status_code == 422
    won = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "status": "won", "limit": 100},
        headers=emu.headers(),
    )
    opps = won.json()["opportunities"]
    assert opps and all(o["status"] == "won" for o in opps)
    assert won.json()["meta"]["total"] == len(opps)
    pipelines = (
        await emu.client.get(
            "/opportunities/pipelines", params={"locationId": emu.loc()}, headers=emu.headers()
        )
    ).json()["pipelines"]
    assert all(
        set(stage) == {"id", "name", "position", "showInFunnel", "showInPieChart"}
        for p in pipelines
        for stage in p["stages"]
    )
    one = pipelines[0]["id"]
    only = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "pipeline_id": one, "limit": 100},
        headers=emu.headers(),
    )
    assert all(o["pipelineId"] == one for o in only.json()["opportunities"])


async def test_conversation_search_pages_by_start_after_date(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    params: dict[str, Any] = {"locationId": emu.loc(), "limit": 7}
    seen: list[str] = []
    dates: list[int] = []
    while True:
        body = (
            await emu.client.get("/conversations/search", params=params, headers=headers)
        ).json()
        batch = body["conversations"]
        seen += [c["id"] for c in batch]
        dates += [c["lastMessageDate"] for c in batch]
        if len(batch) < 7:
            break
        params["startAfterDate"] = batch[-1]["lastMessageDate"]
    assert body["total"] == 25 == len(seen) == len(set(seen))
    assert dates == sorted(dates, reverse=True)


async def test_conversation_messages_page_by_last_message_id(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    conversation = (
        await emu.client.get(
            "/conversations/search", params={"locationId": emu.loc()}, headers=headers
        )
    ).json()["conversations"][0]
    path = f"/conversations/{conversation['id']}/messages"
    first = (await emu.client.get(path, params={"limit": 3}, headers=headers)).json()
    assert len(first["messages"]) == 3 and first["nextPage"] is True
    rest = (
        await emu.client.get(
            path, params={"limit": 3, "lastMessageId": first["lastMessageId"]}, headers=headers
        )
    ).json()
    assert len(rest["messages"]) == 1 and rest["nextPage"] is False
    # the 2021-07-28 Version is refused on the conversations family
    wrong = await emu.client.get(path, headers=emu.headers())
    assert wrong.status_code == 400


async def test_calendar_events_need_a_selector_and_a_window(emu: Emu) -> None:
    headers = emu.headers(version=V415)
    calendars = (
        await emu.client.get("/calendars/", params={"locationId": emu.loc()}, headers=headers)
    ).json()["calendars"]
    no_selector = await emu.client.get(
        "/calendars/events",
        params={"locationId": emu.loc(), "startTime": 0, "endTime": 1},
        headers=headers,
    )
    assert no_selector.status_code == 422
    everything = []
    for calendar in calendars:
        events = await emu.client.get(
            "/calendars/events",
            params={
                "locationId": emu.loc(),
                "calendarId": calendar["id"],
                "startTime": 0,
                "endTime": 4_000_000_000_000,
            },
            headers=headers,
        )
        everything += events.json()["events"]
    assert len(everything) == 50
    # windows partition the events exactly
    starts = sorted(e["startTime"] for e in everything)
    assert starts[0] < starts[-1]


async def test_form_submissions_meta_and_stop(emu: Emu) -> None:
    pages = []
    for page in (1, 2, 3):
        body = (
            await emu.client.get(
                "/forms/submissions",
                params={"locationId": emu.loc(), "limit": 10, "page": page},
                headers=emu.headers(),
            )
        ).json()
        pages.append(body)
    assert [len(p["submissions"]) for p in pages] == [10, 10, 3]
    assert pages[0]["meta"] == {"total": 23, "currentPage": 1, "nextPage": 2, "prevPage": None}
    assert pages[2]["meta"]["nextPage"] is None
    ids = [s["id"] for p in pages for s in p["submissions"]]
    assert len(set(ids)) == 23
    windowed = await emu.client.get(
        "/forms/submissions",
        params={
            "locationId": emu.loc(),
            "limit": 100,
            "startAt": "2000-01-01",
            "endAt": "2000-12-31",
        },
        headers=emu.headers(),
    )
    assert windowed.json()["meta"]["total"] == 0


async def test_offset_lists(emu: Emu) -> None:
    alt = {"altId": emu.loc(), "altType": "location"}
    ids: list[str] = []
    for offset in range(0, 40, 5):
        body = (
            await emu.client.get(
                "/invoices/", params={**alt, "limit": 5, "offset": offset}, headers=emu.headers()
            )
        ).json()
        assert body["total"] == 17
        ids += [invoice["_id"] for invoice in body["invoices"]]
        if len(body["invoices"]) < 5:
            break
    assert len(ids) == len(set(ids)) == 17
    assert (
        await emu.client.get("/invoices/", params=alt, headers=emu.headers())
    ).status_code == 422
    orders = (
        await emu.client.get(
            "/payments/orders", params={"altId": emu.loc(), "limit": 100}, headers=emu.headers()
        )
    ).json()
    assert orders["totalCount"] == len(orders["data"]) == 30
    products = (
        await emu.client.get(
            "/products/",
            params={"locationId": emu.loc(), "limit": 4, "offset": 12},
            headers=emu.headers(),
        )
    ).json()
    assert products["total"] == [{"total": 15}] and len(products["products"]) == 3
    businesses = (
        await emu.client.get(
            "/businesses/",
            params={"locationId": emu.loc(), "limit": 5, "skip": 10},
            headers=emu.headers(),
        )
    ).json()
    assert len(businesses["businesses"]) == 2


async def test_opportunity_search_ascending_cursor_and_date_window(emu: Emu) -> None:
    everything = (
        await emu.client.get(
            "/opportunities/search",
            params={"location_id": emu.loc(), "limit": 100, "order": "added_asc"},
            headers=emu.headers(),
        )
    ).json()["opportunities"]
    created = [opp["createdAt"] for opp in everything]
    assert created == sorted(created) and len(everything) == 35
    walked: list[str] = []
    params: dict[str, Any] = {"location_id": emu.loc(), "limit": 8, "order": "added_asc"}
    while True:
        body = (
            await emu.client.get("/opportunities/search", params=params, headers=emu.headers())
        ).json()
        walked += [opp["id"] for opp in body["opportunities"]]
        if body["meta"]["startAfter"] is None:
            break
        params.update(
            startAfter=body["meta"]["startAfter"], startAfterId=body["meta"]["startAfterId"]
        )
    assert walked == [opp["id"] for opp in everything]
    middle = everything[len(everything) // 2]["createdAt"]  # ISO
    day = f"{middle[5:7]}-{middle[8:10]}-{middle[:4]}"  # mm-dd-yyyy, as the spec shows
    same_day = await emu.client.get(
        "/opportunities/search",
        params={"location_id": emu.loc(), "date": day, "endDate": day, "limit": 100},
        headers=emu.headers(),
    )
    hits = same_day.json()["opportunities"]
    assert middle in {opp["createdAt"] for opp in hits}
    assert all(opp["createdAt"][:10] == middle[:10] for opp in hits)


async def test_an_empty_location_seeds_without_contacts() -> None:
    from ghlsync.emulator import SeedOptions
    from tests.unit.emulator.conftest import make_emu

    empty = await make_emu(SeedOptions(locations=1, contacts=0, opportunities=10, seed=2))
    async with empty.client:
        body = (
            await empty.client.get(
                "/opportunities/search",
                params={"location_id": empty.loc()},
                headers=empty.headers(),
            )
        ).json()
        assert body["opportunities"] == [] and body["meta"]["total"] == 0
        pipelines = await empty.client.get(
            "/opportunities/pipelines", params={"locationId": empty.loc()}, headers=empty.headers()
        )
        assert len(pipelines.json()["pipelines"]) == 3
        calendars = await empty.client.get(
            "/calendars/", params={"locationId": empty.loc()}, headers=empty.headers(version=V415)
        )
        assert calendars.status_code == 200
