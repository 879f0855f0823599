#!/usr/bin/env python3
"""Contacts per second into DuckDB with limits off, and where the time goes.

    .venv/bin/python benchmarks/extract_throughput.py [--contacts 50000]

The emulator runs in its own process (``ghlsync emulator serve``), so its CPU time is read from
``/proc/<pid>/stat`` apart from ours. Three measurements:

1. read only: every contacts page through ``AsyncGHLClient`` + ``ghlsync.extract.engine``
   (shaping included), nothing stored: ghlsync + emulator + socket;
2. the full extract (``run_extract``, contacts only) with dlt's extract / normalize / load;
3. the emulator's CPU seconds during (2).

Shares of (2): emulator = its CPU seconds; ghlsync = read-only time minus the emulator's CPU
during the read; dlt = the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from pathlib import Path

from extract_common import config_for, extract_to_tmp, machine, serve_in_subprocess
from ghlsync.extract.engine import FieldKeys, ReadOptions, Report, guarded
from ghlsync.extract.streams import STREAMS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def read_only(config: object) -> int:
    from ghlsync.client.session import open_session
    from ghlsync.config import Settings
    from ghlsync.extract.config import ExtractConfig

    assert isinstance(config, ExtractConfig)
    n = 0
    async with open_session(Settings.from_env(), config.connection) as session:
        client = session.client
        for location_id in config.locations:
            async for batch in guarded(
                client, STREAMS["contacts"], location_id, None, ReadOptions(), FieldKeys(), Report()
            ):
                n += len(batch.records)
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    process, state = serve_in_subprocess(1, args.contacts)
    try:
        config = config_for(state["locations"], state["baseUrl"], rate=None, streams=["contacts"])
        cpu0 = cpu_seconds(process.pid)
        started = time.monotonic()
        read = asyncio.run(read_only(config))
        read_seconds = time.monotonic() - started
        emulator_read = cpu_seconds(process.pid) - cpu0

        cpu1 = cpu_seconds(process.pid)
        result, seconds = extract_to_tmp(config)
        emulator_cpu = cpu_seconds(process.pid) - cpu1
        ghlsync = max(read_seconds - emulator_read, 0.0)
        dlt_seconds = max(seconds - ghlsync - emulator_cpu, 0.0)
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "contacts": args.contacts,
                    "read_only": {
                        "records": read,
                        "seconds": round(read_seconds, 2),
                        "contacts_per_s": round(read / read_seconds),
                        "emulator_cpu_seconds": round(emulator_read, 2),
                    },
                    "extract": {
                        "records": result.report.totals().get("contacts", 0),
                        "seconds": round(seconds, 2),
                        "contacts_per_s": round(args.contacts / seconds),
                        "emulator_cpu_seconds": round(emulator_cpu, 2),
                    },
                    "share_of_extract_time": {
                        "emulator": round(emulator_cpu / seconds, 3),
                        "ghlsync": round(ghlsync / seconds, 3),
                        "dlt": round(dlt_seconds / seconds, 3),
                    },
                },
                indent=2,
            )
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
