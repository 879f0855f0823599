"""10 locations at HighLevel's real limit (100 requests / 10 s each): budget used, 429s.

    .venv/bin/python benchmarks/push_locations.py [--locations 10] [--rows 400]

The emulator runs in its own process with ``--rate-limit 100/10s`` and the daily limit on
(its ``X-RateLimit-Daily-Remaining`` header tells each location's calls exactly). Every
location receives the same rows, concurrently, each under its own budget. "Budget used" is a
location's calls over what 100 per 10 s allows in its run time (10/s x seconds, the sustained
rate; the first window's burst can lift it above 100 %); target >= 95 % with zero 429s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghlsync.config import Settings
from ghlsync.mapping import parse_mapping
from ghlsync.push import PushConfig, run_push
from push_common import GHLSYNC, MAPPING, admin, machine, write_people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--rows", type=int, default=400)
    args = parser.parse_args()
    import json
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        state_path = work / "state.json"
        process = subprocess.Popen(
            [GHLSYNC, "emulator", "serve", "--port", "0", "--locations", str(args.locations),
             "--contacts", "0", "--opportunities", "0", "--rate-limit", "100/10s",
             "--daily-limit", "200000", "--state-out", str(state_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not state_path.exists():
                time.sleep(0.1)
            time.sleep(0.3)
            state = json.loads(state_path.read_text())
            base_url = state["baseUrl"]
            locations = state["locations"]
            config = PushConfig(
                source=str(write_people(work / "p.csv", args.rows)),
                mapping=parse_mapping(MAPPING),
                locations=tuple(loc["id"] for loc in locations),
                tokens={loc["id"]: loc["token"] for loc in locations},
                base_url=base_url,
                concurrency=8,
            )
            started = time.perf_counter()
            result = run_push(config, settings=Settings(base_url=base_url, home=work / "home"))
            seconds = time.perf_counter() - started
            counts = admin(base_url, "GET", "/counts")["operations"]
        finally:
            process.terminate()
            process.wait(timeout=30)
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    emulator_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    too_many = sum(statuses.get("429", 0) for statuses in counts.values())
    print(f"machine: {machine()}")
    print(f"{args.locations} locations x {args.rows} rows, whole run {seconds:.1f} s, "
          f"429s: {too_many}")  # fmt: skip
    print("| location | status | created | calls | seconds | calls/s | budget used |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    used_all = []
    for report in result.locations:
        calls = (report.budget_limit or 0) - (report.budget_left or 0)
        used = calls / (10.0 * report.seconds)
        used_all.append(used)
        print(f"| {report.location_id} | {report.status} | {report.created} | {calls} | "
              f"{report.seconds:.1f} | {calls / report.seconds:.2f} | {used:.1%} |")  # fmt: skip
    print(f"CPU seconds: push process {own.ru_utime + own.ru_stime:.1f}, emulator process "
          f"{emulator_cpu.ru_utime + emulator_cpu.ru_stime:.1f}, over {seconds:.1f} s wall; "
          f"load average {__import__('os').getloadavg()[0]:.1f} on {__import__('os').cpu_count()} CPUs")  # fmt: skip
    print(f"lowest budget used: {min(used_all):.1%} (target >= 95%), 429s: {too_many} (target 0)")


if __name__ == "__main__":
    main()
