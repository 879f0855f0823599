#!/usr/bin/env python3
"""One location at HighLevel's burst limit: actual time against the least the limit permits.

    .venv/bin/python benchmarks/extract_rate_limited.py [--contacts 100000] [--limit 100/10s]

The emulator enforces ``--limit`` per location (429 past it); the extract's client limits itself
to the same budget, so it should wait instead of drawing 429s. Least permitted time for R
requests at B per W seconds, starting with a full window: ``ceil(R / B - 1) * W`` (the first B go
at once, each later batch of B a window after the previous one).
"""

from __future__ import annotations

import argparse
import json
import math
import time

from extract_common import config_for, counts, extract_to_tmp, machine, start_emulator, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--limit", default="100/10s")
    parser.add_argument("--streams", default="contacts")
    args = parser.parse_args()
    burst, window = args.limit.split("/")
    burst_n, window_s = int(burst), float(window.rstrip("s"))
    seeded = time.monotonic()
    server = start_emulator(1, args.contacts, args.limit)
    seed_seconds = time.monotonic() - seeded
    try:
        config = config_for(
            server.state.locations,
            server.base_url,
            rate=(burst_n, window_s),
            streams=args.streams.split(","),
        )
        result, seconds = extract_to_tmp(config)
        data = counts(server.base_url)
        requests = data["total"]
        least = max(math.ceil(requests / burst_n) - 1, 0) * window_s
        read_seconds = max(r.seconds for r in result.report.results.values())
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "contacts": args.contacts,
                    "limit": args.limit,
                    "seed_seconds": round(seed_seconds, 1),
                    "contacts_read": result.report.totals().get("contacts", 0),
                    "requests": requests,
                    "statuses": statuses(data),
                    "responses_429": statuses(data).get("429", 0),
                    "extract_seconds": round(seconds, 1),
                    "read_seconds": round(read_seconds, 1),
                    "least_permitted_seconds": least,
                    "whole_run_over_least": round(seconds / least, 3) if least else None,
                    "reads_over_least": round(read_seconds / least, 3) if least else None,
                    "ok": result.ok,
                },
                indent=2,
            )
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
