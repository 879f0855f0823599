"""Pure pieces of the extract: bookmarks, shaping, registry, destinations, Singer catalog, merge."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from ghlsync.errors import ConfigError
from ghlsync.extract import singer
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.engine import Batch, Report, merge
from ghlsync.extract.run import destination_for, pipeline_name_for
from ghlsync.extract.shape import shape, tombstone
from ghlsync.extract.state import advance, deleted_ids, start_from
from ghlsync.extract.streams import STREAMS, select
from ghlsync.mapping import field_defs

FIVE = dt.timedelta(minutes=5)


def test_start_from_subtracts_overlap_and_respects_start_date() -> None:
    assert start_from(None, overlap=FIVE) == "1970-01-01T00:00:00.000Z"
    mark = {"cursor": "2026-05-01T12:00:00.000Z"}
    assert start_from(mark, overlap=FIVE) == "2026-05-01T11:55:00.000Z"
    assert start_from(mark, overlap=FIVE, start_date="2026-06-01") == "2026-06-01T00:00:00.000Z"
    assert start_from(None, overlap=FIVE, start_date="2026-06-01T00:00:00Z").startswith(
        "2026-06-01"
    )


def test_advance_keeps_the_latest_and_ignores_junk() -> None:
    assert advance(None, "2026-01-01T00:00:00.000Z") == "2026-01-01T00:00:00.000Z"
    assert advance("2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00.000Z"
    assert advance("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.001Z").endswith(".001Z")  # type: ignore[union-attr]
    assert advance("2026-01-01T00:00:00.000Z", None) == "2026-01-01T00:00:00.000Z"
    assert advance(None, "not a date") is None


def test_deleted_ids() -> None:
    assert deleted_ids({"ids": ["a", "b", "c"]}, {"a", "c", "d"}) == ["b"]
    assert deleted_ids(None, {"a"}) == []


def test_shape_adds_location_and_readable_custom_fields() -> None:
    keys = field_defs(
        [
            {"id": "f1", "fieldKey": "contact.membership_status", "name": "Membership"},
            {"id": "f2", "fieldKey": "opportunity.deal_source"},
            {"id": "f3", "name": "No key"},  # no fieldKey: no readable column, not its name
            {"id": None, "fieldKey": "x"},
        ]
    )
    assert set(keys) == {"f1", "f2", "f3"}
    record = {
        "id": "c1",
        "customFields": [
            {"id": "f1", "value": "gold"},
            {"id": "zz", "value": 1},
            {"id": "f3", "value": "kept raw"},
            "not an item",
        ],
        "searchAfter": [1, "c1"],
    }
    out = shape(record, "loc1", keys)
    assert out["location_id"] == "loc1"
    assert out["customFields"] == record["customFields"]  # raw kept
    assert out["custom_field_values"] == {"membership_status": "gold"}
    assert "searchAfter" not in out
    opp = shape({"id": "o1", "customFields": [{"id": "f2", "fieldValue": "web"}]}, "l", keys)
    assert opp["custom_field_values"] == {"deal_source": "web"}
    assert tombstone("o9", "l") == {"id": "o9", "location_id": "l", "_ghlsync_deleted": True}


def test_registry() -> None:
    names = [s.name for s in select(None)]
    assert "contacts" in names and "campaigns" in names
    # the child streams cost one request per parent: off unless asked for
    assert not {"messages", "notes", "tasks"} & set(names)
    assert STREAMS["contacts"].mode == "incremental"
    assert STREAMS["contacts"].cursor_field == "dateUpdated"
    assert all(s.primary_key == ("location_id", "id") for s in STREAMS.values())
    assert all("location_id" in s.json_schema["required"] for s in STREAMS.values())
    assert [s.name for s in select(["opportunities", "contacts"])] == ["contacts", "opportunities"]
    with pytest.raises(ConfigError, match="nope"):
        select(["nope"])


def test_destinations(tmp_path: object) -> None:
    assert destination_for("duckdb:///tmp/x.duckdb").kind == "duckdb"
    # SQLAlchemy's convention: three slashes then a relative path, four for an absolute one
    rel = destination_for("duckdb:///ghlsync.duckdb").destination
    absolute = destination_for("duckdb:////tmp/abs.duckdb").destination
    assert "ghlsync.duckdb" in str(rel.config_params.get("credentials"))
    assert "/tmp/abs.duckdb" in str(absolute.config_params.get("credentials"))
    assert destination_for("postgres://u@127.0.0.1:5432/db").kind == "postgres"
    parquet = destination_for(f"parquet://{tmp_path}/lake")
    assert parquet.kind == "filesystem" and parquet.loader_file_format == "parquet"
    with pytest.raises(ConfigError):
        destination_for("mysql://x")
    assert pipeline_name_for("a", "b") != pipeline_name_for("a", "c")


def test_config_from_mapping() -> None:
    config = ExtractConfig.from_mapping(
        {"locations": ["a", {"id": "b", "token": "pit-b"}], "overlap_seconds": 60}
    )
    assert config.locations == ["a", "b"] and config.tokens == {"b": "pit-b"}
    assert config.overlap == dt.timedelta(seconds=60)
    with pytest.raises(ConfigError):
        ExtractConfig.from_mapping({"locations": []})


def test_singer_catalog_selection() -> None:
    catalog = singer.discover()
    assert {e["stream"] for e in catalog["streams"]} == set(STREAMS)
    assert [s.name for s in singer.selected_streams(catalog)] == [s.name for s in select(None)]
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = entry["stream"] == "pipelines"
    assert [s.name for s in singer.selected_streams(catalog)] == ["pipelines"]


async def test_merge_interleaves_and_keeps_each_producers_order() -> None:
    b_has_yielded = asyncio.Event()

    async def producer(name: str, n: int, after: asyncio.Event | None) -> AsyncIterator[Batch]:
        for i in range(n):
            if after is not None:
                await after.wait()  # "a" is the slower producer: it starts after b's first
            yield Batch("s", name, [{"i": i}])
            if after is None:
                b_has_yielded.set()
            await asyncio.sleep(0)  # let the other producer run between batches

    seen = [b async for b in merge([producer("a", 3, b_has_yielded), producer("b", 3, None)])]
    assert [b.records[0]["i"] for b in seen if b.location_id == "a"] == [0, 1, 2]
    assert len(seen) == 6
    assert seen[0].location_id == "b"


def test_report_failed_locations() -> None:
    report = Report()
    report.result("l1", "contacts").status = "ok"
    report.result("l2", "contacts").status = "failed"
    report.result("l2", "users").status = "skipped"
    assert report.failed_locations == ["l2"] and not report.ok
    assert report.to_dict()["failed_locations"] == ["l2"]


async def test_margin_limiter_lengthens_the_observed_window() -> None:
    from ghlsync.extract.limits import MarginLimiter

    limiter = MarginLimiter(100, 10.0, margin=0.02)
    key = ("extract", "loc1")
    await limiter.acquire(key)
    await limiter.observe(
        key, {"X-RateLimit-Interval-Milliseconds": "10000", "X-RateLimit-Max": "100"}
    )
    bucket = limiter.inner._bucket(key)
    assert bucket.burst.interval == pytest.approx(10.2)
    assert bucket.burst.limit == 100
