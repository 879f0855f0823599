#!/usr/bin/env python3
"""Delivery: how busy the worker keeps a location's budget, and first event -> contact visible.

    .venv/bin/python benchmarks/events_delivery.py [--backlog 600] [--limit 50/2s] [--latency 30]

Part 1 (budget): the emulator in its own process limits each location to ``--limit`` (a scaled
HighLevel window: 50 calls per 2 s instead of 100 per 10 s, so a run takes seconds, not
minutes); ``ghlsync serve`` in its own process is configured with the same budget
(``connection: {burst, interval}``). A backlog of ``--backlog`` distinct identities (one upsert
each) is enqueued at once; reported: upserts/s from the first to the last delivery, the budget's
rate, busy = achieved / budget, and the emulator's 429 count.

Part 2 (latency): idle queue, ``--latency`` identify calls one at a time; each is timed from the
request to the contact being visible through the emulator's admin API (polled every 5 ms);
reported: p50 / p95 / max.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_common import (
    WRITE_KEY,
    free_port,
    percentile,
    start_emulator,
    stop,
    wait_http,
)


def _serve(home: Path, state: dict[str, object], burst: int, interval: float) -> tuple[object, str]:
    import os
    import subprocess

    from events_common import BIN
    from ghlsync.events.config import hash_key

    locations = state["locations"]
    assert isinstance(locations, list)
    config = {
        "sources": [
            {
                "name": "bench",
                "location_id": locations[0]["id"],
                "write_key_sha256": hash_key(WRITE_KEY),
            }
        ],
        "connection": {"burst": burst, "interval": interval},
    }
    home.mkdir(parents=True, exist_ok=True)
    path = home / "serve.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    env = {**os.environ, "GHLSYNC_HOME": str(home), "GHL_BASE_URL": str(state["baseUrl"]),
           "GHL_TOKEN": locations[0]["token"]}  # fmt: skip
    process = subprocess.Popen([str(BIN), "serve", "--config", str(path), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/readyz")
    return process, url


def budget(args: argparse.Namespace, tmp: Path) -> None:
    count, window = args.limit.split("/")
    burst, interval = int(count), float(window.rstrip("s"))
    emulator, state = start_emulator(tmp, "--rate-limit", args.limit)
    base = str(state["baseUrl"])
    location = state["locations"][0]["id"]
    serve, url = _serve(tmp / "serve", state, burst, interval)
    try:
        emails = [f"b{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(args.backlog)]
        with httpx.Client(base_url=url, auth=(WRITE_KEY, ""), timeout=30) as client:
            for start in range(0, len(emails), 100):
                batch = [{"type": "identify", "userId": e, "messageId": e, "traits": {"email": e}}
                         for e in emails[start : start + 100]]  # fmt: skip
                assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
        while True:
            counts = (
                httpx.get(f"{base}/_emulator/counts")
                .json()["operations"]
                .get("POST /contacts/upsert", {})
            )
            if int(counts.get("200", 0)) >= args.backlog:
                break
            time.sleep(0.2)
        log = httpx.get(f"{base}/_emulator/requests", params={"limit": 1000}).json()["requests"]
        stamps = sorted(
            dt.datetime.fromisoformat(r["at"].replace("Z", "+00:00")).timestamp()
            for r in log
            if r["path"] == "/contacts/upsert" and r["status"] == 200
        )
        stamps = stamps[-min(len(stamps), 1000) :]
        # the first `burst` calls go out at once (an empty window): measure the steady part after it
        steady = stamps[burst:]
        seconds = steady[-1] - steady[0]
        rate = (len(steady) - 1) / seconds
        allowed = burst / interval
        too_many = int(counts.get("429", 0))
        print(f"budget {args.limit} = {allowed:.1f} calls/s; delivered {args.backlog} upserts; steady "
              f"{rate:.2f} upserts/s over {seconds:.1f} s -> busy {rate / allowed * 100:.1f} %; 429s: {too_many}")  # fmt: skip
        _ = location
    finally:
        stop(serve)
        stop(emulator)


def latency(args: argparse.Namespace, tmp: Path) -> None:
    emulator, state = start_emulator(tmp / "lat", "--rate-limit", "off")
    serve, url = _serve(tmp / "serve-lat", state, 100, 10.0)
    base = str(state["baseUrl"])
    location = state["locations"][0]["id"]
    times: list[float] = []
    try:
        with (
            httpx.Client(base_url=url, auth=(WRITE_KEY, ""), timeout=30) as client,
            httpx.Client() as admin,
        ):
            for i in range(args.latency):
                email = f"l{i}-{uuid.uuid4().hex[:6]}@example.com"
                started = time.perf_counter()
                assert (
                    client.post(
                        "/v1/identify", json={"userId": email, "traits": {"email": email}}
                    ).status_code
                    == 200
                )
                while not admin.get(f"{base}/_emulator/locations/{location}/contacts/by-email",
                                    params={"email": email}).json()["contacts"]:  # fmt: skip
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
                time.sleep(0.05)
        print(f"first event -> contact visible ({args.latency} events, idle queue): p50 "
              f"{percentile(times, 0.5) * 1000:.0f} ms, p95 {percentile(times, 0.95) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms")  # fmt: skip
    finally:
        stop(serve)
        stop(emulator)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=600)
    parser.add_argument("--limit", default="50/2s")
    parser.add_argument("--latency", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        budget(args, Path(tmp))
        latency(args, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
