"""Soak: pairs of concurrent ``ghlsync extract`` runs on one destination, kill -9 at random
moments, then count rows lost, duplicated or stale, and runs that needed a hand to recover.

Each round changes the emulator's data (new contacts, renamed contacts, deleted opportunities),
starts two CLI runs on the same pipeline at once (one of them, at random, a ``--full-refresh``
of contacts), kills one of them with SIGKILL at a random moment (most rounds), then runs one
plain ``ghlsync extract`` with no manual cleanup: that run must exit 0 (else the round "needed a
hand"), and afterwards the destination must hold exactly the emulator's contacts (every id once,
each with its latest name) and opportunities (deleted ones gone).

    .venv/bin/python benchmarks/extract_soak.py                       # DuckDB, 20 rounds
    .venv/bin/python benchmarks/extract_soak.py --to postgres --rounds 20
    .venv/bin/python benchmarks/extract_soak.py --to postgres --two-dirs   # PostgreSQL's lock

``--two-dirs`` gives the two runs of a pair their own pipelines directories (two machines on
one warehouse): only PostgreSQL's advisory lock keeps them apart. Not run in CI.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract_common import machine, start_emulator

CLI = "from ghlsync.cli import main; main()"
PG = "postgres://postgres@127.0.0.1:5432/test"


def admin(base_url: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{base_url}/_emulator{path}", timeout=60, **kwargs)
    response.raise_for_status()
    return response.json()


def upstream(base_url: str, locations: list[str], kind: str) -> dict[tuple[str, str], Any]:
    out = {}
    for loc in locations:
        items = admin(base_url, "GET", f"/locations/{loc}/{kind}", params={"limit": 100000})
        for item in items["items"]:
            out[loc, item["id"]] = item
    return out


def change(base_url: str, locations: list[str], rng: random.Random, round_no: int) -> None:
    """New and renamed contacts, deleted opportunities: what the next runs must bring."""
    for loc in locations:
        for n in range(5):
            admin(
                base_url,
                "POST",
                f"/locations/{loc}/contacts",
                json={"firstName": f"R{round_no}N{n}", "email": f"r{round_no}n{n}.{loc}@x.co"},
            )
        contacts = list(upstream(base_url, [loc], "contacts"))
        for _, contact_id in rng.sample(contacts, 5):
            admin(
                base_url,
                "PATCH",
                f"/locations/{loc}/contacts/{contact_id}",
                json={"lastName": f"Renamed{round_no}"},
            )
        opportunities = list(upstream(base_url, [loc], "opportunities"))
        for _, opportunity_id in rng.sample(opportunities, min(2, len(opportunities))):
            admin(base_url, "DELETE", f"/locations/{loc}/opportunities/{opportunity_id}")


class Destination:
    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        self.dataset = f"ghl_soak_{uuid.uuid4().hex[:8]}" if kind == "postgres" else "highlevel"
        self.url = PG if kind == "postgres" else f"duckdb:///{work / 'soak.duckdb'}"
        self.path = work / "soak.duckdb"

    def rows(self, table: str, columns: str) -> list[tuple[Any, ...]]:
        sql = f"SELECT {columns} FROM {self.dataset}.{table}"  # noqa: S608 - our own names
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as con:
                return con.execute(sql).fetchall()
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def drop(self) -> None:
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as con:
                con.execute(f"DROP SCHEMA IF EXISTS {self.dataset} CASCADE")
                con.execute(f"DROP SCHEMA IF EXISTS {self.dataset}_staging CASCADE")


def command(config: Path, destination: Destination, pipelines: Path, refresh: bool) -> list[str]:
    cmd = [sys.executable, "-c", CLI, "extract", "--config", str(config)]
    cmd += ["--to", destination.url, "--dataset", destination.dataset]
    cmd += ["--pipelines-dir", str(pipelines), "--json"]
    if refresh:
        cmd += ["--full-refresh", "-s", "contacts"]
    return cmd


def pipeline_lock_file(destination: Destination, pipelines: Path) -> Path:
    from ghlsync.extract.run import destination_for, pipeline_name_for

    name = pipeline_name_for(destination_for(destination.url).identity, destination.dataset)
    return pipelines / f"{name}.lock"


def holder_of(
    pair: list[subprocess.Popen[bytes]], lock_files: set[Path], timeout: float = 120.0
) -> subprocess.Popen[bytes] | None:
    """The run of ``pair`` that took the pipeline's lock (its pid is in the lock file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in lock_files:
            try:
                pid = json.loads(path.read_text() or "{}").get("pid")
            except (OSError, ValueError):
                pid = None
            for process in pair:
                if process.pid == pid and process.poll() is None:
                    return process
        if all(process.poll() is not None for process in pair):
            return None
        time.sleep(0.02)
    return None


def verify(base_url: str, locations: list[str], destination: Destination) -> dict[str, int]:
    contacts = upstream(base_url, locations, "contacts")
    opportunities = upstream(base_url, locations, "opportunities")
    got = destination.rows("contacts", "location_id, id, last_name")
    keys = [(r[0], r[1]) for r in got]
    names = {(r[0], r[1]): r[2] for r in got}
    got_opps = [(r[0], r[1]) for r in destination.rows("opportunities", "location_id, id")]
    return {
        "lost": len(set(contacts) - set(keys)) + len(set(opportunities) - set(got_opps)),
        "duplicated": (len(keys) - len(set(keys))) + (len(got_opps) - len(set(got_opps))),
        "extra": len(set(keys) - set(contacts)) + len(set(got_opps) - set(opportunities)),
        "stale": sum(
            1 for k, c in contacts.items() if k in names and names[k] != c.get("lastName")
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--to", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--two-dirs", action="store_true", help="a pipelines dir per run")
    parser.add_argument("--contacts", type=int, default=600, help="seeded, all locations")
    parser.add_argument("--kill-rate", type=float, default=0.75, help="rounds with a kill -9")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="ghlsync-soak-"))
    server = start_emulator(2, args.contacts, None, opportunities=args.contacts // 10)
    locations = [loc["id"] for loc in server.state.locations]
    config = work / "config.json"
    config.write_text(
        json.dumps(
            {
                "base_url": server.base_url,
                "locations": [
                    {"id": loc["id"], "token": loc["token"]} for loc in server.state.locations
                ],
                "rate_limit": False,
                "page_size": 100,
                "streams": ["contacts", "opportunities", "users"],
            }
        )
    )
    destination = Destination(args.to, work)
    pipelines = [work / "p1", work / "p2" if args.two_dirs else work / "p1"]
    exits: collections.Counter[str] = collections.Counter()
    totals: collections.Counter[str] = collections.Counter()
    needed_hand, kills, durations = 0, 0, []
    held: list[float] = []  # seconds from taking the pipeline's lock to exit 0
    kill_moments: list[float] = []  # seconds after the victim took the lock
    lock_files = {pipeline_lock_file(destination, d) for d in pipelines}
    started = time.monotonic()
    try:
        first = subprocess.run(
            command(config, destination, pipelines[0], False), capture_output=True, check=False
        )
        if first.returncode != 0:
            raise SystemExit(f"the first run failed: {first.stderr.decode()[-2000:]}")
        for round_no in range(1, args.rounds + 1):
            change(server.base_url, locations, rng, round_no)
            refresh = [rng.random() < 0.5, False]
            rng.shuffle(refresh)
            t0 = time.monotonic()
            pair = [
                subprocess.Popen(
                    command(config, destination, pipelines[i], refresh[i]),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for i in range(2)
            ]
            holder = holder_of(pair, lock_files)
            if rng.random() < args.kill_rate and holder is not None:
                # a random moment of the run that holds the pipeline (its dlt phases, not
                # Python's start-up): up to 1.2x how long earlier holders held it
                held_for = 1.2 * (sorted(held)[len(held) // 2] if held else 6.0)
                moment = rng.uniform(0.0, held_for)
                time.sleep(moment)
                if holder.poll() is None:
                    holder.send_signal(signal.SIGKILL)
                    kills += 1
                    kill_moments.append(moment)
            elif holder is not None:
                t_lock = time.monotonic()
                holder.wait(timeout=600)
                if holder.returncode == 0:
                    held.append(time.monotonic() - t_lock)
            for process in pair:
                _, stderr = process.communicate(timeout=600)
                code = process.returncode
                exits[str(code)] += 1
                if code not in (0, 4, -signal.SIGKILL):
                    print(f"round {round_no}: exit {code}: {stderr.decode().strip()[-300:]}")
            durations.append(time.monotonic() - t0)
            check = subprocess.run(
                command(config, destination, pipelines[0], False), capture_output=True, check=False
            )
            if check.returncode != 0:
                needed_hand += 1
                print(
                    f"round {round_no}: the next run exited {check.returncode}: "
                    f"{check.stderr.decode().strip()[-300:]}"
                )
                continue
            found = verify(server.base_url, locations, destination)
            totals.update(found)
            print(
                f"round {round_no:2}: exits {[p.returncode for p in pair]} "
                f"refresh {refresh} {found}",
                flush=True,
            )
    finally:
        destination.drop()
        server.stop()
    print()
    print(f"machine: {machine()}")
    print(
        f"destination: {args.to}{' (two pipelines dirs)' if args.two_dirs else ''}, "
        f"{args.rounds} rounds, {args.contacts} seeded contacts in 2 locations"
    )
    print(
        f"runs in pairs: {sum(exits.values())}, exit codes: {dict(sorted(exits.items()))} "
        "(4 = the pipeline was held by the other run, -9 = killed)"
    )
    print(
        f"kill -9 landed: {kills}, at {', '.join(f'{m:.1f}' for m in sorted(kill_moments))} s "
        f"after the victim took the lock (a run held it {min(held, default=0):.1f}-"
        f"{max(held, default=0):.1f} s when not killed)"
    )
    print(
        f"rows lost: {totals['lost']}, duplicated: {totals['duplicated']}, "
        f"stale: {totals['stale']}, not upstream: {totals['extra']}"
    )
    print(f"runs that needed a hand to recover: {needed_hand}")
    print(
        f"wall time: {time.monotonic() - started:.0f} s "
        f"(pairs {sum(durations):.0f} s, mean {sum(durations) / len(durations):.1f} s)"
    )


if __name__ == "__main__":
    main()
