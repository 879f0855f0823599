#!/usr/bin/env python3
"""Many locations at once, each under its own rate budget, against one location alone.

    .venv/bin/python benchmarks/extract_many_locations.py [--locations 20] [--per-location 10000] [--limit 10/10s]

If budgets are per location (HighLevel's rule) and one event loop keeps every location busy,
20 locations take about as long as one. Streams: contacts (``--streams`` to change).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from extract_common import config_for, counts, extract_to_tmp, machine, start_emulator, statuses


def run(locations: int, per_location: int, limit: str, streams: list[str]) -> dict[str, Any]:
    burst, window = limit.split("/")
    server = start_emulator(locations, locations * per_location, limit)
    try:
        config = config_for(
            server.state.locations,
            server.base_url,
            rate=(int(burst), float(window.rstrip("s"))),
            streams=streams,
        )
        result, seconds = extract_to_tmp(config)
        data = counts(server.base_url)
        return {
            "locations": locations,
            "contacts": result.report.totals().get("contacts", 0),
            "requests": data["total"],
            "statuses": statuses(data),
            "seconds": round(seconds, 1),
            # the last location's reads finished this long after the start (dlt's normalize
            # and load of the rows follow)
            "read_seconds": round(max(r.seconds for r in result.report.results.values()), 1),
            "ok": result.ok,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--per-location", type=int, default=10_000)
    parser.add_argument("--limit", default="10/10s")
    parser.add_argument("--streams", default="contacts")
    args = parser.parse_args()
    streams = args.streams.split(",")
    alone = run(1, args.per_location, args.limit, streams)
    many = run(args.locations, args.per_location, args.limit, streams)
    ratios = {
        "whole_run": round(many["seconds"] / alone["seconds"], 2),
        "reads": round(many["read_seconds"] / alone["read_seconds"], 2),
    }
    print(
        json.dumps(
            {
                "machine": machine(),
                "limit": args.limit,
                "one": alone,
                "many": many,
                "many_over_one": ratios,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
