"""Rerun with 10% of 10,000 rows changed: API calls per changed row (target <= 1.05).

    .venv/bin/python benchmarks/push_rerun.py [--rows 10000] [--changed 0.10]

The emulator runs in its own process (limits off). Calls are counted by the emulator, every
call of the rerun included (the custom fields and location reads, tag calls).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghlsync.config import Settings
from ghlsync.mapping import parse_mapping
from ghlsync.push import PushConfig, run_push
from push_common import MAPPING, emulator, machine, total_calls, write_people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, emulator(Path(tmp)) as state:
        work = Path(tmp)
        location = state["locations"][0]
        base_url = state["baseUrl"]
        settings = Settings(base_url=base_url, home=work / "home")

        def push(path: Path) -> tuple[float, int, object]:
            config = PushConfig(
                source=str(path),
                mapping=parse_mapping(MAPPING),
                locations=(location["id"],),
                tokens={location["id"]: location["token"]},
                base_url=base_url,
                rate_limit=False,
            )
            before = total_calls(base_url)
            started = time.perf_counter()
            result = run_push(config, settings=settings)
            return time.perf_counter() - started, total_calls(base_url) - before, result

        seconds, calls, result = push(write_people(work / "p.csv", args.rows))
        report = result.locations[0]  # type: ignore[attr-defined]
        print(f"machine: {machine()}")
        print(f"first run: {args.rows} rows, created {report.created}, {calls} calls, "
              f"{seconds:.1f} s")  # fmt: skip
        rng = random.Random(1)
        changed = set(rng.sample(range(args.rows), int(args.rows * args.changed)))
        retagged = set(rng.sample(sorted(changed), len(changed) // 10))  # tags change too
        seconds, calls, result = push(
            write_people(work / "p.csv", args.rows, changed=changed, retagged=retagged)
        )
        report = result.locations[0]  # type: ignore[attr-defined]
        print(f"rerun: {len(changed)} rows changed ({len(retagged)} of them with a new tag): "
              f"updated {report.updated}, unchanged {report.unchanged}, +tags "
              f"{report.tags_added}, -tags {report.tags_removed}, {calls} calls, {seconds:.1f} s")  # fmt: skip
        print(f"API calls per changed row: {calls / len(changed):.3f} (target <= 1.05)")
        seconds, calls, result = push(work / "p.csv")
        print(f"unchanged rerun: {calls} calls ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
