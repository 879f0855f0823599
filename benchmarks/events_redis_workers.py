#!/usr/bin/env python3
"""Scale-out: delivery rate of 1 vs 3 ``ghlsync events work`` processes on one Redis queue.

    .venv/bin/python benchmarks/events_redis_workers.py [--backlog 600] [--latency-ms 50] [--concurrency 4]

The emulator (own process, rate limit off: "when the budget allows it") answers each call after
``--latency-ms`` (HighLevel answers in tens to hundreds of ms); each worker keeps at most
``--concurrency`` deliveries in flight, so one worker is bound by latency x concurrency as a
real deployment's worker is by its CPU and connections. A backlog of ``--backlog`` identities
is enqueued on Redis (unique key prefix, removed afterwards), then 1 worker, and in a second
round 3 workers, deliver it; reported: upserts/s of each round and the ratio.
"""

from __future__ import annotations

import argparse
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
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/readyz")
        emails = [f"w{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(args.backlog)]
        with httpx.Client(base_url=url, auth=(WRITE_KEY, ""), timeout=30) as client:
            for start in range(0, len(emails), 100):
                batch = [{"type": "identify", "userId": e, "messageId": e, "traits": {"email": e}}
                         for e in emails[start : start + 100]]  # fmt: skip
                assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
        base = state["baseUrl"]
        started = time.perf_counter()
        for n in range(workers):
            processes.append(subprocess.Popen(
                [str(BIN), "events", "work", "--queue", REDIS_URL, "--config", str(path),
                 "--consumer", f"b{n}", "--concurrency", str(args.concurrency)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        first = last = None
        while True:
            done = int(httpx.get(f"{base}/_emulator/counts").json()["operations"]
                       .get("POST /contacts/upsert", {}).get("200", 0))  # fmt: skip
            now = time.perf_counter()
            if first is None and done > 0:
                first = (now, done)
            if done >= args.backlog:
                last = (now, done)
                break
            if now - started > 600:
                raise RuntimeError("delivery did not finish")
            time.sleep(0.05)
        assert first is not None
        rate = (last[1] - first[1]) / (last[0] - first[0])
        print(f"{workers} worker(s), concurrency {args.concurrency} each: {rate:.1f} upserts/s "
              f"({args.backlog} delivered in {last[0] - started:.1f} s incl. start-up)")  # fmt: skip
        return rate
    finally:
        for process in processes:
            stop(process)
        stop(serve)
        stop(emulator)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=600)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = round_(args, Path(tmp), 1)
        three = round_(args, Path(tmp), 3)
    print(f"3 workers / 1 worker = {three / one:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
