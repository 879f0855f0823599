"""The client's wire shapes against the emulator's answers: every record the Singer tap reads,
in every stream, fits the JSON schema derived from its shape (types, date-times).

The client and the emulator each read HighLevel's specs on their own (STYLE.md: the emulator
imports nothing of ghlsync), so they share no declaration; this test is where the two readings
meet, so a shape that drifts from what the emulator (HighLevel) sends fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from jsonschema import Draft7Validator

from ghlsync.emulator import EmulatorServer
from ghlsync.extract import singer
from ghlsync.extract.streams import STREAMS
from tests.integration.extract.conftest import config_for


def _every_stream_selected() -> dict[str, Any]:
    catalog = singer.discover()
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = True
    return catalog


def _date_times(schema: dict[str, Any]) -> list[str]:
    return [n for n, p in schema["properties"].items() if p.get("format") == "date-time"]


def test_every_record_fits_the_schema_of_its_shape(emulator: EmulatorServer) -> None:
    out = io.StringIO()
    singer.tap(config_for(emulator), out, catalog=_every_stream_selected())
    schemas: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    problems: list[str] = []
    for line in out.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            schemas[message["stream"]] = message["schema"]
        if message["type"] != "RECORD":
            continue
        stream, record = message["stream"], message["record"]
        counts[stream] = counts.get(stream, 0) + 1
        schema = schemas[stream]
        for error in Draft7Validator(schema).iter_errors(record):
            problems.append(f"{stream}.{'.'.join(map(str, error.path))}: {error.message[:120]}")
        for name in _date_times(schema):
            value = record.get(name)
            if value is not None:
                try:
                    dt.datetime.fromisoformat(value)
                except (TypeError, ValueError):
                    problems.append(f"{stream}.{name}: {value!r} is not an ISO-8601 date-time")
    assert not problems, "\n".join(sorted(set(problems))[:40])
    # the seeded emulator has records in every stream, so no stream's check is empty
    # (custom object records go to one table per object: ``object_pet``)
    assert not set(STREAMS) - {"custom_object_records"} - set(counts)
    assert any(name.startswith("object_") for name in counts)
