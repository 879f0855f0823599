"""Every stream against the emulator over a socket: records, keys, incremental reads, children.

The engine is read directly (``engine.guarded``) where a test is about what a stream reads and
bookmarks; through ``run_extract`` into DuckDB where it is about what lands in the tables.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Batch, FieldKeys, ReadOptions, Report, guarded
from ghlsync.extract.run import run_extract
from ghlsync.extract.state import parse_ts
from ghlsync.extract.streams import STREAMS
from tests.integration.extract.conftest import (
    admin,
    client_for,
    config_for,
    count,
    emulator_items,
)

Bookmarks = dict[str, dict[str, Any]]


def read(
    config: ExtractConfig,
    streams: list[str],
    bookmarks: Bookmarks | None = None,
    report: Report | None = None,
    options: ReadOptions | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], Bookmarks, Report]:
    """Run the engine for ``streams`` over every location: records by stream, last bookmarks."""
    report = report if report is not None else Report()
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in streams}
    marks: Bookmarks = {}

    async def go() -> None:
        keys = FieldKeys(report)
        async with client_for(config) as client:
            for name in streams:
                for location_id in config.locations:
                    previous = (bookmarks or {}).get(f"{name}/{location_id}")
                    batch: Batch
                    async for batch in guarded(
                        client,
                        STREAMS[name],
                        location_id,
                        previous,
                        options or ReadOptions(),
                        keys,
                        report,
                    ):
                        out[name].extend(batch.records)
                        if batch.bookmark is not None:
                            marks[f"{name}/{location_id}"] = batch.bookmark

    asyncio.run(go())
    return out, marks, report


def _seed_children(emulator: EmulatorServer, config: ExtractConfig) -> dict[str, int]:
    """A note and a task on three contacts of each location (the emulator seeds none)."""
    made = {"notes": 0, "tasks": 0}

    async def go() -> None:
        async with client_for(config) as client:
            for location_id in config.locations:
                page = await client.contacts.search(location_id, page_limit=3)
                for contact in page.get("contacts", []):
                    await client.contacts.create_note(
                        contact["id"], "called, no answer", location_id=location_id
                    )
                    await client.contacts.create_task(
                        contact["id"],
                        title="call back",
                        due_date=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
                        location_id=location_id,
                    )
                    made["notes"] += 1
                    made["tasks"] += 1

    asyncio.run(go())
    return made


def test_every_stream_yields_records_with_its_key_and_location(emulator: EmulatorServer) -> None:
    config = config_for(emulator)
    made = _seed_children(emulator, config)
    records, _marks, report = read(config, list(STREAMS))
    for name, stream in STREAMS.items():
        for location_id in config.locations:
            result = report.result(location_id, name)
            assert result.status == "ok", (name, result)
        rows = records[name]
        assert rows, f"{name}: no records"
        for row in rows:
            for key in stream.primary_key:
                assert row.get(key), (name, key, row)
        assert {row["location_id"] for row in rows} == set(config.locations), name
        assert len({(row["location_id"], row["id"]) for row in rows}) == len(rows), name
    for kind in ("notes", "tasks", "invoices", "orders", "transactions", "conversations"):
        upstream = sorted(
            i["id"] if "id" in i else i["_id"]
            for loc in config.locations
            for i in emulator_items(emulator, loc, kind)
        )
        assert sorted(r["id"] for r in records[kind]) == upstream, kind
    assert made["tasks"] <= len(records["tasks"])
    assert all(row["contactId"] for row in records["notes"] + records["tasks"])
    assert all(row["conversationId"] for row in records["messages"])
    # one customFields request per location for the stream and the shaping of contacts and
    # opportunities together
    assert count(emulator, "GET /locations/{locationId}/customFields") == len(config.locations)


def test_child_streams_are_off_by_default_and_warn_of_their_cost(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = config_for(emulator)
    result = run_extract(
        config, to=f"duckdb:///{tmp_path / 'x.duckdb'}", pipelines_dir=str(tmp_path / "p")
    )
    assert result.ok, result.report.to_dict()
    streams = {r.stream for r in result.report.results.values()}
    assert not {"messages", "notes", "tasks"} & streams
    assert not any("one request per" in w for w in result.report.warnings)

    _, _, report = read(config, ["notes", "messages"])
    contacts = 120  # per location
    for location_id in config.locations:
        assert any(
            w.startswith(f"{location_id}: notes: one request per contact: ~{contacts} requests")
            and f"~{contacts // 10} s at HighLevel's limit" in w
            for w in report.warnings
        ), report.warnings
        assert any(
            w.startswith(f"{location_id}: messages: one request per conversation")
            for w in report.warnings
        )
    assert count(emulator, "GET /contacts/{contactId}/notes") == 2 * contacts


def test_notes_second_run_reads_only_contacts_changed_since(emulator: EmulatorServer) -> None:
    config = config_for(emulator)
    _records, marks, _ = read(config, ["notes"])
    first = count(emulator, "GET /contacts/{contactId}/notes")
    assert first == 240
    loc = config.locations[0]
    admin(emulator, "POST", f"/locations/{loc}/contacts", json={"firstName": "New"})
    _records, _marks, report = read(config, ["notes"], marks)
    again = count(emulator, "GET /contacts/{contactId}/notes") - first
    # the contacts changed in the overlap before the bookmark, plus the new one
    assert 1 <= again < 20
    assert report.result(loc, "notes").status == "ok"


def test_messages_second_run_reads_only_conversations_with_new_messages(
    emulator: EmulatorServer,
) -> None:
    config = config_for(emulator)
    records, marks, _ = read(config, ["messages"])
    conversations = sum(
        len(emulator_items(emulator, loc, "conversations")) for loc in config.locations
    )
    first = count(emulator, "GET /conversations/{conversationId}/messages")
    assert first == conversations
    assert len(records["messages"]) == sum(
        len(emulator_items(emulator, loc, "messages")) for loc in config.locations
    )
    loc = config.locations[0]
    contact = next(c for c in emulator_items(emulator, loc, "contacts") if c.get("email"))

    async def send() -> Any:
        async with client_for(config) as client:
            return await client.conversations.send_message(
                contact["id"], type="Email", message="hello again", location_id=loc
            )

    sent = asyncio.run(send())
    again, _, _ = read(config, ["messages"], marks)
    # the conversation with the new message, plus those whose last message is in the overlap
    assert count(emulator, "GET /conversations/{conversationId}/messages") - first < 10
    assert sent["messageId"] in {r["id"] for r in again["messages"]}


def test_conversations_second_run_reads_only_the_overlap(emulator: EmulatorServer) -> None:
    config = config_for(emulator)
    records, marks, _ = read(config, ["conversations"])
    assert len(records["conversations"]) > 40
    for location_id in config.locations:
        newest = max(
            r["lastMessageDate"]
            for r in records["conversations"]
            if r["location_id"] == location_id
        )
        cursor = marks[f"conversations/{location_id}"]["cursor"]
        assert parse_ts(cursor) == parse_ts(newest)  # epoch ms upstream, ISO-8601 here
    again, _, _ = read(config, ["conversations"], marks)
    assert len(again["conversations"]) < 10
    for row in again["conversations"]:
        cursor = parse_ts(marks[f"conversations/{row['location_id']}"]["cursor"])
        moment = parse_ts(row["lastMessageDate"])
        assert moment >= cursor - dt.timedelta(minutes=5)


def test_calendar_events_second_run_rereads_a_window_and_emits_only_changes(
    emulator: EmulatorServer,
) -> None:
    config = config_for(emulator)
    records, marks, _ = read(config, ["calendar_events"])
    loc = config.locations[0]
    seeded = [r for r in records["calendar_events"] if r["location_id"] == loc]
    assert len(seeded) > 50
    first_requests = count(emulator, "GET /calendars/events")
    calendars = sum(len(emulator_items(emulator, i, "calendars")) for i in config.locations)
    # no --start-date: 90 days back to 180 ahead, in 31-day windows (was 5 years back, 1 ahead)
    assert first_requests == calendars * math.ceil((90 + 180) / 31)

    # a status change on an appointment inside the re-read range (behind the API: the admin
    # write stamps dateUpdated)
    moved = next(
        r
        for r in seeded
        if parse_ts(r["startTime"]) > dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    )
    admin(
        emulator,
        "PATCH",
        f"/locations/{loc}/calendar_events/{moved['id']}",
        json={"appointmentStatus": "showed"},
    )
    again, _, _ = read(config, ["calendar_events"], marks)
    # fewer windows: from the bookmark - 30 days to 180 days ahead
    assert count(emulator, "GET /calendars/events") - first_requests < first_requests
    emitted = {r["id"]: r for r in again["calendar_events"] if r["location_id"] == loc}
    assert emitted[moved["id"]]["appointmentStatus"] == "showed"
    # besides it, only events stamped within the overlap before the first run's cursor
    cutoff = parse_ts(marks[f"calendar_events/{loc}"]["cursor"]) - dt.timedelta(minutes=5)
    for event_id, row in emitted.items():
        assert event_id == moved["id"] or parse_ts(row["dateUpdated"]) >= cutoff
    assert len(emitted) < 10


def _opportunity_rows(db: Path, load_id: str | None = None) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        if load_id is None:
            row = con.execute("SELECT count(*) FROM highlevel.opportunities").fetchone()
        else:
            row = con.execute(
                "SELECT count(*) FROM highlevel.opportunities WHERE _dlt_load_id = ?", [load_id]
            ).fetchone()
    assert row is not None
    return int(row[0])


def test_opportunities_rerun_writes_only_changes(emulator: EmulatorServer, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator, streams=["opportunities"])
    target = {"to": f"duckdb:///{db}", "pipelines_dir": str(tmp_path / "p")}
    first = run_extract(config, **target)  # type: ignore[arg-type]
    assert first.ok, first.report.to_dict()
    assert first.report.totals()["opportunities"] == 40
    second = run_extract(config, **target)  # type: ignore[arg-type]
    assert second.ok
    assert second.report.totals()["opportunities"] == 0  # no change: nothing rewritten
    assert _opportunity_rows(db) == 40

    loc = config.locations[0]
    items = admin(emulator, "GET", f"/locations/{loc}/opportunities")["items"]
    template = items[0]
    created = admin(
        emulator,
        "POST",
        f"/locations/{loc}/opportunities",
        json={
            "name": "Fresh",
            "status": "open",
            "pipelineId": template["pipelineId"],
            "pipelineStageId": template["pipelineStageId"],
            "contactId": template["contactId"],  # the emulator's search fails without one
        },
    )
    admin(emulator, "PATCH", f"/locations/{loc}/opportunities/{items[1]['id']}", json={"name": "x"})
    admin(emulator, "DELETE", f"/locations/{loc}/opportunities/{items[2]['id']}")
    third = run_extract(config, **target)  # type: ignore[arg-type]
    assert third.ok, third.report.to_dict()
    assert third.report.result(loc, "opportunities").records == 2  # created + updated
    assert third.report.result(loc, "opportunities").deleted == 1
    assert third.report.result(config.locations[1], "opportunities").records == 0
    with duckdb.connect(str(db), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT id FROM highlevel.opportunities").fetchall()}
        name = con.execute(
            "SELECT name FROM highlevel.opportunities WHERE id = ?", [items[1]["id"]]
        ).fetchone()
    assert created["id"] in ids and items[2]["id"] not in ids and len(ids) == 40
    assert name == ("x",)


def test_missing_scope_skips_only_that_stream(emulator: EmulatorServer) -> None:
    config = config_for(emulator)
    loc = config.locations[0]
    scopes = sorted(
        {s.scope for s in STREAMS.values()}
        - {"calendars/events.readonly", "invoices.readonly", "conversations.readonly"}
    )
    token = admin(emulator, "POST", "/tokens", json={"locationId": loc, "scopes": scopes})["token"]
    config = config.replace(tokens={**config.tokens, loc: token})
    records, _, report = read(
        config, ["calendars", "calendar_events", "invoices", "products", "messages"]
    )
    assert report.result(loc, "calendar_events").status == "skipped"
    assert report.result(loc, "invoices").status == "skipped"
    assert report.result(loc, "calendars").status == "ok"
    assert report.result(loc, "products").status == "ok"
    assert report.result(config.locations[1], "calendar_events").status == "ok"
    assert any(
        "`calendars/events.readonly`" in w and "calendar_events" in w for w in report.warnings
    )
    assert any("`invoices.readonly`" in w for w in report.warnings)
    # a child names its parent's scope too: messages are read through the conversations search
    assert report.result(loc, "messages").status == "skipped"
    assert any(
        "stream messages skipped" in w
        and "`conversations/message.readonly` (and `conversations.readonly`" in w
        for w in report.warnings
    ), report.warnings
    assert {r["location_id"] for r in records["calendar_events"]} == {config.locations[1]}


def test_child_bookmark_moves_only_after_the_children_of_its_parents(
    emulator: EmulatorServer,
) -> None:
    """A crash between batches must never leave a messages bookmark past an unread parent."""
    config = config_for(emulator)
    loc = config.locations[0]
    conversations = {c["id"]: c for c in emulator_items(emulator, loc, "conversations")}
    seen_parents: set[str] = set()
    moves = 0

    async def go() -> None:
        nonlocal moves
        report = Report()
        async with client_for(config) as client:
            cursor: str | None = None
            async for batch in guarded(
                client,
                STREAMS["messages"],
                loc,
                None,
                ReadOptions(page_size=10),  # ten conversations per search page
                FieldKeys(report),
                report,
            ):
                seen_parents.update(r["conversationId"] for r in batch.records)
                new = (batch.bookmark or {}).get("cursor")
                if new and new != cursor:
                    moves += 1
                    cursor = new
                    covered = [
                        cid
                        for cid, c in conversations.items()
                        if dt.datetime.fromtimestamp(c["lastMessageDate"] / 1000, dt.UTC)
                        <= parse_ts(cursor)
                    ]
                    # every conversation the bookmark now covers has had its messages read
                    assert set(covered) <= seen_parents, set(covered) - seen_parents
            assert report.result(loc, "messages").status == "ok"

    asyncio.run(go())
    assert moves >= len(conversations) // 10
