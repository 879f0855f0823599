#!/usr/bin/env python3
"""Requests an extract sends per 1,000 contacts (first run and an unchanged second run).

    .venv/bin/python benchmarks/extract_requests.py [--contacts 20000] [--locations 2]

Emulator in-process on a socket, rate limits off; every default stream; request counts from the
emulator's ``/_emulator/counts``.
"""

from __future__ import annotations

import argparse
import json
import tempfile

from extract_common import config_for, counts, machine, start_emulator
from ghlsync.extract.run import run_extract


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--locations", type=int, default=2)
    args = parser.parse_args()
    server = start_emulator(args.locations, args.contacts, None, opportunities=args.contacts // 10)
    try:
        config = config_for(server.state.locations, server.base_url, rate=None)
        out: dict[str, object] = {"machine": machine(), "contacts": args.contacts}
        with tempfile.TemporaryDirectory() as tmp:
            for run in ("first", "second"):
                before = counts(server.base_url)
                result = run_extract(
                    config, to=f"duckdb:///{tmp}/x.duckdb", pipelines_dir=f"{tmp}/p"
                )
                after = counts(server.base_url)
                ops = {
                    op: sum(after["operations"][op].values())
                    - sum(before["operations"].get(op, {}).values())
                    for op in after["operations"]
                }
                ops = {k: v for k, v in ops.items() if v}
                total = after["total"] - before["total"]
                search = ops.get("POST /contacts/search", 0)
                out[run] = {
                    "seconds": round(result.seconds, 2),
                    "contacts_read": result.report.totals().get("contacts", 0),
                    "requests_total": total,
                    "contact_search_requests": search,
                    "search_requests_per_1000_contacts": round(search / args.contacts * 1000, 2),
                    "all_requests_per_1000_contacts": round(total / args.contacts * 1000, 2),
                    "by_operation": ops,
                }
        print(json.dumps(out, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
