"""Local work of a push (read, map, normalise, hash, ledger lookups): rows/s and peak memory.

    .venv/bin/python benchmarks/push_local.py [--rows 100000] [--memory-rows 1000000]

No API: the plan runs against a ledger (SQLite) as ``ghlsync push`` does, batch by batch. The
first run maps every row (email validated, phone to E.164, hash); to measure the rerun, the
ledger is then filled as the writer would have (contact ids, hashes), and the same file is
planned again (unchanged rows are recognised by the raw row's hash, before any mapping).
Targets: >= 10,000 rows/s first run, >= 50,000 rows/s unchanged rerun, a 1,000,000-row CSV
under 300 MB peak memory (measured in a child process: ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ghlsync.mapping import compile_mapping, parse_mapping
from ghlsync.push.ledger import Entry, Ledger
from ghlsync.push.plan import key_function, plan_batch, split_unchanged
from ghlsync.push.readers import open_source
from push_common import MAPPING, machine, write_people


def plan_file(path: Path, ledger: Ledger, *, record: bool) -> tuple[int, int, int, float]:
    source = open_source(str(path))
    mapping = compile_mapping(parse_mapping(MAPPING), (), source.columns)
    key_of = key_function(mapping)
    rows = actions = unchanged = 0
    started = time.perf_counter()
    for batch in source.batches(2000):
        # what ghlsync.push.location._plan does: the unchanged fast path, then the plan
        same, rest, _ = split_unchanged(batch, key_of, mapping.fingerprint, ledger.hashes_many)
        keys = [k for k in (key_of(r.values) for r in rest) if k is not None]
        plan = plan_batch(rest, mapping, key_of, ledger.get_many(keys) if keys else {})
        rows += len(batch)
        actions += len(plan.actions)
        unchanged += len(plan.unchanged) + len(same)
        if record:  # what the writer stores after the writes went
            ledger.put_many(
                Entry(
                    a.key,
                    contact_id=f"c{a.row.number}",
                    raw_hash=a.raw_hash,
                    out_hash=a.out_hash,
                    sent=a.contact.fields,
                    tags_wanted=a.contact.tags,
                    tags_owned=a.contact.tags,
                    seen_run=1,
                )
                for a in plan.actions
            )
    return rows, actions, unchanged, time.perf_counter() - started


def child(path: str, home: str) -> None:
    with Ledger(Path(home) / "ledger.sqlite3", "bench") as ledger:
        rows, actions, _, seconds = plan_file(Path(path), ledger, record=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows} {actions} {seconds:.2f} {peak_mb:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = write_people(work / "p.csv", args.rows)
        with Ledger(work / "ledger.sqlite3", "bench") as ledger:
            rows, actions, _, first = plan_file(path, ledger, record=False)
            print(f"first run: {rows} rows planned ({actions} creates) in {first:.2f} s: "
                  f"{rows / first:,.0f} rows/s (target >= 10,000)")  # fmt: skip
            plan_file(path, ledger, record=True)
            rows, actions, unchanged, rerun = plan_file(path, ledger, record=False)
            print(f"unchanged rerun: {unchanged} of {rows} unchanged, {actions} actions, "
                  f"{rerun:.2f} s: {rows / rerun:,.0f} rows/s (target >= 50,000)")  # fmt: skip
        if args.memory_rows:
            big = write_people(work / "big.csv", args.memory_rows)
            size_mb = big.stat().st_size / 1e6
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(big), str(work / "home")],
                capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            rows, actions, seconds, peak = int(out[0]), int(out[1]), float(out[2]), float(out[3])
            print(f"{rows:,}-row CSV ({size_mb:.0f} MB), first run with ledger writes: "
                  f"{seconds:.1f} s ({rows / seconds:,.0f} rows/s), peak memory {peak:.0f} MB "
                  f"(target <= 300 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
