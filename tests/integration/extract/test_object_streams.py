"""Custom objects, associations, relations, custom values and workflows through the extract
(into DuckDB) and the tap, against the emulator over a socket (issue 16 items 7-8)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import duckdb
import httpx

from ghlsync.emulator import EmulatorServer
from ghlsync.extract.run import run_extract
from ghlsync.extract.singer import discover, tap
from tests.integration.extract.conftest import config_for, emulator_items

STREAMS = [
    "custom_objects",
    "custom_object_records",
    "associations",
    "relations",
    "custom_values",
    "workflows",
]
PETS = "/objects/custom_objects.pet/records"


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _api(server: EmulatorServer, method: str, path: str, **kwargs: Any) -> Any:
    token = server.state.locations[0]["token"]
    headers = {"Authorization": f"Bearer {token}", "Version": "2021-07-28"}
    response = httpx.request(
        method, f"{server.base_url}{path}", headers=headers, timeout=10, **kwargs
    )
    assert response.status_code < 300, response.text
    return response.json()


def test_object_streams_land_in_duckdb_and_follow_changes(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "x.duckdb"
    config = config_for(emulator, streams=STREAMS)
    first = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert first.ok, first.report.to_dict()
    loc, other = config.locations
    for location_id in config.locations:
        for kind, table in (
            ("object_records", "object_pet"),
            ("associations", "associations"),
            ("relations", "relations"),
            ("custom_values", "custom_values"),
            ("workflows", "workflows"),
        ):
            expected = sorted(item["id"] for item in emulator_items(emulator, location_id, kind))
            got = _rows(
                db,
                f"SELECT id FROM highlevel.{table} WHERE location_id = '{location_id}' "  # noqa: S608
                "ORDER BY id",
            )
            assert [row[0] for row in got] == expected and expected, (location_id, table)
    assert _rows(db, "SELECT DISTINCT key FROM highlevel.custom_objects") == [
        ("custom_objects.pet",)
    ]
    # one table per custom object; properties arrive as columns (properties__name, ...)
    names = _rows(
        db,
        "SELECT object_key, properties__name FROM highlevel.object_pet "
        "WHERE object_key = 'custom_objects.pet' AND properties__name IS NOT NULL",
    )
    assert len(names) == len(_rows(db, "SELECT id FROM highlevel.object_pet")) == 12

    # a record created, one changed and one deleted in the first location only
    made = _api(emulator, "POST", PETS, json={"locationId": loc, "properties": {"name": "Newbie"}})[
        "record"
    ]
    pets = sorted(emulator_items(emulator, loc, "object_records"), key=lambda r: r["id"])
    changed, gone = [p for p in pets if p["id"] != made["id"]][:2]
    _api(
        emulator,
        "PUT",
        f"{PETS}/{changed['id']}",
        params={"locationId": loc},
        json={"properties": {"breed": "Changed"}},
    )
    _api(emulator, "DELETE", f"{PETS}/{gone['id']}", params={"locationId": loc})
    # a new custom object and a record of it: a table of its own
    _api(
        emulator,
        "POST",
        "/objects/",
        json={
            "labels": {"singular": "Boat", "plural": "Boats"},
            "key": "boat",
            "locationId": loc,
            "primaryDisplayPropertyDetails": {"key": "hull", "name": "Hull", "dataType": "TEXT"},
        },
    )
    boat = _api(
        emulator,
        "POST",
        "/objects/custom_objects.boat/records",
        json={"locationId": loc, "properties": {"hull": "H-1"}},
    )["record"]

    second = run_extract(config, to=f"duckdb:///{db}", pipelines_dir=str(tmp_path / "p"))
    assert second.ok, second.report.to_dict()
    ids = {
        row[0]
        for row in _rows(db, "SELECT id FROM highlevel.object_pet WHERE location_id = ?", [loc])
    }
    assert made["id"] in ids and gone["id"] not in ids and changed["id"] in ids
    breed = _rows(
        db,
        "SELECT properties__breed FROM highlevel.object_pet WHERE id = ?",
        [changed["id"]],
    )
    assert breed == [("Changed",)]
    assert _rows(db, "SELECT id, properties__hull FROM highlevel.object_boat") == [
        (boat["id"], "H-1")
    ]
    # the deleted record's relation went with it
    relations = {row[0] for row in _rows(db, "SELECT second_record_id FROM highlevel.relations")}
    assert gone["id"] not in relations
    # changed-only: the untouched location wrote no record rows, per-location bookmarks
    assert second.report.result(other, "custom_object_records").records == 0
    assert second.report.result(loc, "custom_object_records").records >= 3


def test_the_tap_carries_the_object_streams(emulator: EmulatorServer) -> None:
    config = config_for(emulator)
    catalog = discover()
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = entry["stream"] in STREAMS
    out = io.StringIO()
    report = tap(config, out, catalog=catalog)
    assert report.ok, report.to_dict()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    schemas = [m["stream"] for m in messages if m["type"] == "SCHEMA"]
    tables = set(STREAMS) - {"custom_object_records"} | {"object_pet"}
    assert sorted(schemas) == sorted(tables)  # each announced once
    records: dict[str, list[dict[str, Any]]] = {}
    announced: set[str] = set()
    for message in messages:
        if message["type"] == "SCHEMA":
            announced.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in announced  # its SCHEMA came first
            records.setdefault(message["stream"], []).append(message["record"])
    assert set(records) == tables
    expected = {
        r["id"] for lid in config.locations for r in emulator_items(emulator, lid, "object_records")
    }
    assert {r["id"] for r in records["object_pet"]} == expected
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert set(state["bookmarks"]["custom_object_records"]) == set(config.locations)
    assert state["tables"] == {"custom_object_records": ["object_pet"]}
