"""Paginator logic, pure: an in-memory responder, no sockets, no sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from ghlsync.client.pagination import (
    CursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    PageStream,
    PaginationError,
    PaginationLoopError,
    RecordStream,
    SearchAfterPaginator,
    SinglePagePaginator,
    meta_cursor,
    record_cursor,
)
from ghlsync.errors import MalformedResponseError

from .fakes import Call, RecordingRequester, SearchLocation

SEARCH = PageRequest("POST", "/contacts/search", json={"locationId": "L"}, location_id="L")


def _search(responder: SearchLocation, **kwargs: Any) -> tuple[PageStream, RecordingRequester]:
    requester = RecordingRequester(responder)
    paginator = SearchAfterPaginator(SEARCH, records="contacts", page_size=500, **kwargs)
    return PageStream(requester, paginator), requester


async def test_search_after_switches_before_the_10k_window() -> None:
    stream, requester = _search(SearchLocation(25_000))
    ids = [record["id"] async for record in stream.records()]

    assert len(ids) == 25_000 and len(set(ids)) == 25_000
    assert ids == sorted(ids)
    pages = [c.json.get("page") for c in requester.calls]
    # page for the first 20 pages (records 1..10,000), then only searchAfter
    assert pages[:20] == list(range(1, 21))
    assert all(p is None for p in pages[20:])
    assert all("searchAfter" in c.json for c in requester.calls[20:])
    assert max(p * 500 for p in pages[:20] if p) <= 10_000
    assert len(requester.calls) == 50
    assert stream.progress.done and stream.progress.records == 25_000
    assert stream.progress.pages == 50


async def test_search_after_with_a_page_size_that_does_not_divide_the_window() -> None:
    requester = RecordingRequester(SearchLocation(12_000))
    paginator = SearchAfterPaginator(SEARCH, records="contacts", page_size=300)
    ids = [r["id"] async for r in PageStream(requester, paginator).records()]
    assert len(set(ids)) == 12_000
    last_page = max(c.json["page"] for c in requester.calls if "page" in c.json)
    assert last_page * 300 <= 10_000 < (last_page + 1) * 300


async def test_search_after_from_the_start_resumes_a_read() -> None:
    location = SearchLocation(1_200)
    cursor = [location.contacts[699]["dateUpdated"], location.contacts[699]["id"]]
    stream, requester = _search(location, search_after=cursor)
    ids = [r["id"] async for r in stream.records()]
    assert ids[0] == "c000700" and len(ids) == 500
    assert "page" not in requester.calls[0].json
    assert requester.calls[0].json["searchAfter"] == cursor


async def test_search_past_the_window_without_a_cursor_fails_loudly() -> None:
    def no_cursor(call: Call) -> Any:
        answer = SearchLocation(15_000)(call)
        answer.pop("searchAfter", None)
        for record in answer["contacts"]:
            record.pop("searchAfter")
        return answer

    stream, _ = _search(no_cursor)  # type: ignore[arg-type]
    with pytest.raises(PaginationError, match="10000-record window"):
        async for _ in stream:
            pass


async def test_a_repeated_cursor_is_a_loop_error() -> None:
    served = iter(range(100))

    def stuck(call: Call) -> Any:
        page = next(served)  # new records each time, but the same cursor
        return {
            "contacts": [{"id": f"a{page}"}, {"id": f"b{page}"}],
            "meta": {"startAfter": 1, "startAfterId": "b"},
        }

    paginator = CursorPaginator(
        PageRequest("GET", "/contacts/", params={"locationId": "L", "limit": 2}),
        records="contacts",
        cursor=meta_cursor("startAfter", "startAfterId"),
        page_size=2,
    )
    stream = PageStream(RecordingRequester(stuck), paginator)
    with pytest.raises(PaginationLoopError, match="repeated after 2 pages"):
        async for _ in stream:
            pass


class Rows:
    """``n`` rows behind a cursor, offset or page API; ``cap`` limits the page size served."""

    def __init__(self, n: int, *, cap: int = 1_000, total: bool = True) -> None:
        self.rows = [{"id": f"r{i:04d}", "at": i} for i in range(n)]
        self.cap = cap
        self.total = total

    def by_cursor(self, call: Call) -> Any:
        params = call.params or {}
        size = min(int(params["limit"]), self.cap)
        start = int(params.get("startAfter", -1)) + 1
        rows = self.rows[start : start + size]
        meta: dict[str, Any] = {"total": len(self.rows)} if self.total else {}
        if rows:
            meta |= {"startAfter": rows[-1]["at"], "startAfterId": rows[-1]["id"]}
        return {"contacts": rows, "meta": meta}

    def by_offset(self, call: Call) -> Any:
        params = call.params or {}
        size = min(int(params["limit"]), self.cap)
        start = int(params.get("offset", params.get("skip", 0)))
        answer: dict[str, Any] = {"items": self.rows[start : start + size]}
        if self.total:
            answer["total"] = len(self.rows)
        return answer

    def by_page(self, call: Call) -> Any:
        params = call.params or {}
        size, page = int(params["limit"]), int(params["page"])
        rows = self.rows[(page - 1) * size : page * size]
        more = page * size < len(self.rows)
        return {
            "submissions": rows,
            "meta": {"total": len(self.rows), "nextPage": page + 1 if more else None},
        }


async def test_cursor_pages_carry_progress_and_stop_at_the_total() -> None:
    requester = RecordingRequester(Rows(250).by_cursor)
    paginator = CursorPaginator(
        PageRequest("GET", "/contacts/", params={"locationId": "L", "limit": 100}),
        records="contacts",
        cursor=meta_cursor("startAfter", "startAfterId"),
        page_size=100,
    )
    stream = PageStream(requester, paginator)
    seen = []
    async for page in stream:
        seen.append((page.number, len(page.records), page.cursor, stream.progress.records))
    assert seen == [
        (1, 100, None, 100),
        (2, 100, {"startAfter": 99, "startAfterId": "r0099"}, 200),
        (3, 50, {"startAfter": 199, "startAfterId": "r0199"}, 250),
    ]
    assert stream.progress.total == 250 and stream.progress.done
    assert stream.progress.cursor is None
    assert requester.calls[1].params == {
        "locationId": "L",
        "limit": 100,
        "startAfter": 99,
        "startAfterId": "r0099",
    }


async def test_a_stream_runs_once() -> None:
    paginator = SinglePagePaginator(PageRequest("GET", "/users/"), records="users")
    stream = PageStream(RecordingRequester(lambda c: {"users": [{"id": "u"}]}), paginator)
    assert [p.records async for p in stream] == [[{"id": "u"}]]
    assert [p async for p in stream] == []  # exhausted, not restarted


async def test_short_page_ends_only_without_a_total() -> None:
    # the server caps pages at 40 although 100 were asked: with a total, paging goes on
    capped = RecordingRequester(Rows(130, cap=40).by_offset)
    paginator = OffsetPaginator(PageRequest("GET", "/products/"), records="items", page_size=100)
    ids = [r["id"] async for r in PageStream(capped, paginator).records()]
    assert len(set(ids)) == 130
    assert [c.params["offset"] for c in capped.calls if c.params] == [0, 40, 80, 120]

    # no total: a short page is the last one
    plain = RecordingRequester(Rows(130, total=False).by_offset)
    paginator = OffsetPaginator(
        PageRequest("GET", "/businesses/"),
        records="items",
        page_size=50,
        offset_param="skip",
    )
    ids = [r["id"] async for r in PageStream(plain, paginator).records()]
    assert len(ids) == 130 and len(plain.calls) == 3
    assert [c.params["skip"] for c in plain.calls if c.params] == [0, 50, 100]


async def test_empty_page_ends_and_exact_multiple_needs_one_more_call_without_total() -> None:
    requester = RecordingRequester(Rows(100, total=False).by_offset)
    paginator = OffsetPaginator(PageRequest("GET", "/x"), records="items", page_size=50)
    ids = [r["id"] async for r in PageStream(requester, paginator).records()]
    assert len(ids) == 100 and len(requester.calls) == 3


async def test_page_number_follows_meta_next_page() -> None:
    requester = RecordingRequester(Rows(45).by_page)
    paginator = PageNumberPaginator(
        PageRequest("GET", "/forms/submissions", params={"locationId": "L"}),
        records="submissions",
        page_size=20,
    )
    ids = [r["id"] async for r in PageStream(requester, paginator).records()]
    assert len(set(ids)) == 45
    assert [c.params["page"] for c in requester.calls if c.params] == [1, 2, 3]


async def test_record_cursor() -> None:
    answers = iter(
        [
            {"conversations": [{"id": "a", "lastMessageDate": 5}], "total": 2},
            {"conversations": [{"id": "b", "lastMessageDate": 9}], "total": 2},
        ]
    )
    requester = RecordingRequester(lambda c: next(answers))
    paginator = CursorPaginator(
        PageRequest("GET", "/conversations/search"),
        records="conversations",
        cursor=record_cursor("startAfterDate", "lastMessageDate"),
        total=("total",),
    )
    ids = [r["id"] async for r in PageStream(requester, paginator).records()]
    assert ids == ["a", "b"]
    assert requester.calls[1].params == {"startAfterDate": 5}


def test_page_request_changes_drop_none() -> None:
    request = PageRequest("POST", "/contacts/search", json={"page": 3, "pageLimit": 10})
    changed = request.with_json(page=None, searchAfter=[1, "x"])
    assert changed.json == {"pageLimit": 10, "searchAfter": [1, "x"]}
    assert request.json == {"page": 3, "pageLimit": 10}


async def test_search_after_mode_without_a_cursor_after_a_full_page_fails_loudly() -> None:
    def no_cursor(call: Call) -> Any:
        return {"contacts": [{"id": "a"}, {"id": "b"}], "total": 10}

    paginator = SearchAfterPaginator(SEARCH, records="contacts", page_size=2, search_after=[0, "z"])
    with pytest.raises(PaginationError, match="no 'searchAfter' cursor after a full page"):
        async for _ in PageStream(RecordingRequester(no_cursor), paginator):
            pass


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "no 'users' in the response"),
        ({"error": "x"}, "no 'users' in the response"),
        ({"users": ["u1"]}, "not a list of objects"),
        ({"users": {"id": "u1"}}, "not a list of objects"),
    ],
)
async def test_malformed_pages_raise(answer: Any, message: str) -> None:
    paginator = SinglePagePaginator(PageRequest("GET", "/users/"), records="users")
    with pytest.raises(MalformedResponseError, match=message):
        async for _ in PageStream(RecordingRequester(lambda c: answer), paginator):
            pass


async def test_an_explicit_null_is_an_empty_page() -> None:
    paginator = SinglePagePaginator(PageRequest("GET", "/users/"), records="users")
    pages = [p async for p in PageStream(RecordingRequester(lambda c: {"users": None}), paginator)]
    assert pages[0].records == [] and pages[0].is_last


@pytest.mark.parametrize("style", ["offset", "skip", "page"])
async def test_a_server_ignoring_the_paging_parameters_is_a_loop_error(style: str) -> None:
    """Full pages, no total, the same first page whatever ``skip``/``offset``/``page`` says:
    without the repeated-page check this would be read forever."""
    rows = Rows(50, total=False)

    def ignores_paging(call: Call) -> Any:
        return {"items": rows.rows[:10], "submissions": rows.rows[:10]}

    first = PageRequest("GET", "/things", params={"locationId": "L"})
    paginator: OffsetPaginator | PageNumberPaginator
    if style == "page":
        paginator = PageNumberPaginator(first, records="submissions", page_size=10)
    else:
        paginator = OffsetPaginator(first, records="items", page_size=10, offset_param=style)
    requester = RecordingRequester(ignores_paging)
    stream = RecordStream(PageStream(requester, paginator))
    seen: list[Any] = []
    with pytest.raises(PaginationLoopError, match="page 2 repeats page 1") as caught:
        async for record in stream:
            seen.append(record["id"])
    assert len(requester.calls) == 2 and len(seen) == 10  # stopped at the first repeat
    assert "'r0000'..'r0009'" in str(caught.value) and "GET /things" in str(caught.value)


async def test_pages_without_ids_are_compared_by_content() -> None:
    def same(call: Call) -> Any:
        return {"items": [{"name": "x"}, {"name": "y"}]}

    paginator = OffsetPaginator(PageRequest("GET", "/things"), records="items", page_size=2)
    with pytest.raises(PaginationLoopError, match="2 records"):
        async for _ in PageStream(RecordingRequester(same), paginator):
            pass


async def test_distinct_pages_are_not_a_loop() -> None:
    rows = Rows(35, total=False)
    paginator = OffsetPaginator(PageRequest("GET", "/i"), records="items", page_size=10)
    stream = RecordStream(PageStream(RecordingRequester(rows.by_offset), paginator))
    assert [r["id"] async for r in stream] == [r["id"] for r in rows.rows]
