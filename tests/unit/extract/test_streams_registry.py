"""The stream registry and the pure pieces the readers and the engine share."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ghlsync.extract.engine import _changed_only
from ghlsync.extract.readers import FieldKeys, ReadContext, ReadOptions, events_range
from ghlsync.extract.state import changed_since, clamp, scan_cursor, sortable
from ghlsync.extract.streams import STREAMS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "extract-streams.md"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_every_stream_is_documented_in_the_streams_page() -> None:
    text = DOCS.read_text()
    table_rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert set(STREAMS) <= table_rows, sorted(set(STREAMS) - table_rows)
    assert table_rows <= set(STREAMS), sorted(table_rows - set(STREAMS))
    for name, stream in STREAMS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"`{stream.scope}`" in row, name
        assert stream.mode in row, name


def test_every_stream_declares_what_the_extract_needs() -> None:
    for name, stream in STREAMS.items():
        assert stream.primary_key == ("location_id", "id"), name
        assert stream.json_schema["additionalProperties"] is True, name
        assert {"id", "location_id"} <= set(stream.json_schema["required"]), name
        assert stream.scope.endswith(".readonly"), name
        assert callable(stream.reader), name
        if stream.parent is not None:
            assert stream.parent in STREAMS and not stream.default_enabled, name
        if stream.changed_field is not None:
            assert stream.changed_field in stream.json_schema["properties"], name


def test_clamp_keeps_past_cursors_and_caps_future_ones() -> None:
    assert clamp("2026-05-01T00:00:00.000Z", NOW) == "2026-05-01T00:00:00.000Z"
    assert clamp("2099-01-01T00:00:00.000Z", NOW) == "2026-06-01T12:01:00.000Z"
    assert clamp(None, NOW) is None
    assert clamp("junk", NOW) is None


def test_sortable_slices_utc_stamps_and_converts_the_rest() -> None:
    assert sortable("2026-06-01T12:00:00.123Z") == "2026-06-01T12:00:00"
    assert sortable("2026-06-01T12:00:00+00:00") == "2026-06-01T12:00:00"
    assert sortable("2026-06-01T14:00:00+02:00") == "2026-06-01T12:00:00"
    assert sortable(1780315200000) == "2026-06-01T12:00:00"  # epoch ms
    assert sortable("yesterday") is None and sortable(None) is None and sortable(True) is None


def test_changed_only_keeps_records_at_or_after_the_cutoff_and_unstamped_ones() -> None:
    cutoff = changed_since({"cursor": "2026-06-01T12:00:00.000Z"}, overlap=dt.timedelta(minutes=5))
    assert cutoff == "2026-06-01T11:55:00"
    records = [
        {"id": "old", "updatedAt": "2026-06-01T11:54:59.999Z"},
        {"id": "edge", "updatedAt": "2026-06-01T11:55:00.000Z"},
        {"id": "new", "updatedAt": "2026-06-01T13:00:00.000Z"},
        {"id": "unstamped"},
    ]
    kept = [r["id"] for r in _changed_only(records, "updatedAt", cutoff)]
    assert kept == ["edge", "new", "unstamped"]
    assert _changed_only(records, "updatedAt", None) == records  # first run: everything
    assert changed_since(None, overlap=dt.timedelta(minutes=5)) is None
    assert scan_cursor(NOW) == "2026-06-01T12:00:00.000Z"


def _ctx(bookmark: dict[str, str] | None, start_date: str | None = None) -> ReadContext:
    options = ReadOptions(start_date=start_date)
    return ReadContext(None, "loc", bookmark, options, FieldKeys(), now=NOW)  # type: ignore[arg-type]


def test_events_range_first_run_history_then_lookback_window() -> None:
    lower, upper = events_range(_ctx(None))
    assert upper == NOW + dt.timedelta(days=180)
    assert lower == NOW - dt.timedelta(days=90)  # near today unless --start-date goes back
    lower, _ = events_range(_ctx(None, start_date="2026-01-01T00:00:00Z"))
    assert lower == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lower, _ = events_range(_ctx({"cursor": "2026-05-31T12:00:00.000Z"}))
    assert lower == dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    # start_date still bounds a later run
    lower, _ = events_range(_ctx({"cursor": "2026-05-31T12:00:00.000Z"}, "2026-05-20T00:00:00Z"))
    assert lower == dt.datetime(2026, 5, 20, tzinfo=dt.UTC)
