#!/usr/bin/env python3
"""Scale-out: steady delivery rate of 1 vs 3 ``ghlsync events work`` processes on one Redis queue.

    .venv/bin/python benchmarks/events_redis_workers.py [--backlog 2400] [--latency-ms 50]
        [--concurrency 4] [--rounds 1,3]

The emulator (own process, rate limit off: "when the budget allows it") answers each call after
``--latency-ms`` (HighLevel answers in tens to hundreds of ms); each worker keeps at most
``--concurrency`` deliveries in flight, so one worker is bound by latency x concurrency (80
upserts/s at 50 ms x 4) as a real deployment's worker is by its connections. Each round: a fresh
Redis key prefix, ``ghlsync serve --no-deliver`` to take the events in, N workers started and
**waited for until they are ready** (every partition leased, shared out evenly among the N), then
a backlog of ``--backlog`` distinct identities is enqueued; the rate is counted from the first to
the last delivery (so process start-up is not in it), plus the steady rate between 10 % and 90 %
of the backlog. Also reported: each process's CPU per delivery (``/proc``), and the correctness
checks: every identity's contact upserted exactly once, no 429.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_common import BIN, WRITE_KEY, free_port, start_emulator, stop, wait_http

REDIS_URL = "redis://127.0.0.1:6379/0"
PARTITIONS = 16


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(client: redis.Redis, prefix: str, workers: int, timeout_s: float = 120) -> float:
    """Wait until every partition is leased and the N workers share them evenly."""
    quota = math.ceil(PARTITIONS / workers)
    begun = time.monotonic()
    while time.monotonic() - begun < timeout_s:
        holders = [client.get(f"{prefix}:events:lease:{p}") for p in range(PARTITIONS)]
        counts: dict[bytes, int] = {}
        for holder in holders:
            if holder is not None:
                counts[holder] = counts.get(holder, 0) + 1
        if None not in holders and len(counts) == workers and max(counts.values()) <= quota:
            return time.monotonic() - begun
        time.sleep(0.1)
    raise RuntimeError(f"{workers} workers did not share the partitions in {timeout_s:.0f} s")


def round_(args: argparse.Namespace, tmp: Path, workers: int) -> float:
    from ghlsync.events.config import hash_key

    emulator, state = start_emulator(tmp / f"emu{workers}", "--rate-limit", "off",
                                     "--faults", f"slow:1@{args.latency_ms}ms")  # fmt: skip
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    location = state["locations"][0]["id"]
    config = {
        "sources": [
            {"name": "bench", "location_id": location, "write_key_sha256": hash_key(WRITE_KEY)}
        ],
        "queue": REDIS_URL,
        "redis_prefix": prefix,
        "connection": {"rate_limit": True, "burst": 100_000, "interval": 1.0},
    }
    home = tmp / f"home{workers}"
    home.mkdir(parents=True)
    path = home / "serve.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "GHLSYNC_HOME": str(home), "GHL_BASE_URL": state["baseUrl"],
           "GHL_TOKEN": state["locations"][0]["token"]}  # fmt: skip
    port = free_port()
    serve = subprocess.Popen([str(BIN), "serve", "--config", str(path), "--port", str(port), "--no-deliver"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    processes: list[subprocess.Popen[bytes]] = []
    client = redis.Redis.from_url(REDIS_URL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/readyz")
        for n in range(workers):
            processes.append(subprocess.Popen(
                [str(BIN), "events", "work", "--queue", REDIS_URL, "--config", str(path),
                 "--consumer", f"b{n}", "--concurrency", str(args.concurrency)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        ready_s = wait_ready(client, prefix, workers)
        cpu_before = [cpu_seconds(p.pid) for p in [*processes, emulator]]
        emails = [f"w{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(args.backlog)]
        with httpx.Client(base_url=url, auth=(WRITE_KEY, ""), timeout=30) as http:
            for start in range(0, len(emails), 200):
                batch = [{"type": "identify", "userId": e, "messageId": e, "traits": {"email": e}}
                         for e in emails[start : start + 200]]  # fmt: skip
                assert http.post("/v1/batch", json={"batch": batch}).status_code == 200
        base = state["baseUrl"]
        marks: list[tuple[float, int]] = []
        started = time.perf_counter()
        while True:
            counts = httpx.get(f"{base}/_emulator/counts").json()["operations"]
            done = int(counts.get("POST /contacts/upsert", {}).get("200", 0))
            now = time.perf_counter()
            if done:
                marks.append((now, done))
            if done >= args.backlog:
                break
            if now - started > 900:
                raise RuntimeError("delivery did not finish")
            time.sleep(0.02)
        cpu = [
            cpu_seconds(p.pid) - b for p, b in zip([*processes, emulator], cpu_before, strict=True)
        ]
        first, last = marks[0], marks[-1]
        rate = (last[1] - first[1]) / (last[0] - first[0])
        low = next(m for m in marks if m[1] >= 0.1 * args.backlog)
        high = next(m for m in marks if m[1] >= 0.9 * args.backlog)
        steady = (high[1] - low[1]) / (high[0] - low[0])
        statuses = {s for by_status in counts.values() for s in by_status}
        contacts = httpx.get(f"{base}/_emulator/locations/{location}/contacts?limit=1000000").json()
        rows = contacts.get("contacts") or contacts.get("items") or []
        per_email: dict[str, int] = {}
        for row in rows:
            per_email[row.get("email")] = per_email.get(row.get("email"), 0) + 1
        once = all(per_email.get(e) == 1 for e in emails) and done == args.backlog
        worker_ms = sum(cpu[:-1]) / args.backlog * 1000
        print(f"{workers} worker(s), concurrency {args.concurrency} each (ready {ready_s:.1f} s "
              f"after start): {rate:.1f} upserts/s first to last delivery, {steady:.1f} /s from 10 % "
              f"to 90 %; {args.backlog} in {last[0] - first[0]:.1f} s; CPU per delivery: workers "
              f"{worker_ms:.1f} ms, emulator {cpu[-1] / args.backlog * 1000:.1f} ms; each "
              f"contact upserted once: {once}; 429s: {'429' in statuses}; load average "
              f"{os.getloadavg()[0]:.2f}")  # fmt: skip
        return rate
    finally:
        for process in processes:
            stop(process)
        stop(serve)
        stop(emulator)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=2400)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", default="1,3", help="worker counts, one round each")
    args = parser.parse_args()
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (int(n) for n in args.rounds.split(",")):
            rates[workers] = round_(args, Path(tmp), workers)
    if 1 in rates and 3 in rates:
        print(f"3 workers / 1 worker = {rates[3] / rates[1]:.2f}x (target >= 2.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
