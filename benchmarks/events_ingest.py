#!/usr/bin/env python3
"""Durable ingest: time to acknowledge at a paced rate, and the highest rate that keeps it.

    .venv/bin/python benchmarks/events_ingest.py [--rate 3000] [--batch 20] [--seconds 10]
        [--ramp 3000,4500,6000,9000,12000] [--step-seconds 5] [--target-p99-ms 25]

``ghlsync serve --no-deliver`` runs in its own process (SQLite queue in WAL mode,
synchronous=FULL: every 200 is on disk); this process is the load, over loopback, sending
``/v1/batch`` requests of ``--batch`` SDK-shaped identify events (as analytics-python builds
them: context.library, timestamp, integrations; unique messageIds, built before the clock
starts) with a small keep-alive HTTP/1.1 client (``events_load.py``).

1. **Paced** (open loop, the target's phrasing): ``--rate`` events/s for ``--seconds``, each
   request due at a fixed time whatever the earlier answers did and timed from that moment
   (no coordinated omission). Reported: achieved events/s, p50/p90/p99/max time to acknowledge,
   errors, the generator's own lag, the server's CPU per event (``/proc``).
2. **Maximum sustainable rate**: paced steps of ``--ramp`` events/s, ``--step-seconds`` each;
   the highest step that achieved its rate with p99 <= ``--target-p99-ms`` is reported.
3. **Saturation** (closed loop): ``--concurrency`` connections sending back to back: the
   throughput ceiling, where latency is queueing.
4. Single ``/v1/identify`` requests (one event each), closed loop, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_common import WRITE_KEY, percentile, start_emulator, start_serve, stop
from events_load import Result, closed, paced, request_bytes


def message() -> dict[str, object]:
    """One identify as analytics-python 2.x sends it inside a batch."""
    user = uuid.uuid4().hex[:12]
    return {
        "traits": {"email": f"{user}@example.com", "firstName": "Bench", "plan": "pro"},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "integrations": {},
        "type": "identify",
        "userId": f"u-{user}",
        "messageId": str(uuid.uuid4()),
    }


def requests_for(count: int, batch: int) -> list[bytes]:
    """``count`` requests with unique messageIds (nothing is deduplicated away)."""
    out = []
    for _ in range(count):
        if batch == 1:
            body = {k: v for k, v in message().items() if k != "type"}
            out.append(request_bytes("/v1/identify", json.dumps(body).encode(), WRITE_KEY))
        else:
            sent_at = dt.datetime.now(dt.UTC).isoformat()
            body = {"batch": [message() for _ in range(batch)], "sentAt": sent_at}
            out.append(request_bytes("/v1/batch", json.dumps(body).encode(), WRITE_KEY))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe(result: Result, batch: int, cpu_s: float) -> str:
    events = result.requests * batch
    lat = result.latencies_s
    ms = [percentile(lat, q) * 1000 for q in (0.5, 0.9, 0.99)]
    line = (
        f"{events / result.elapsed_s:,.0f} events/s ({result.requests / result.elapsed_s:,.0f} "
        f"requests/s, {result.connections} connections): ack p50 {ms[0]:.1f} ms, p90 {ms[1]:.1f}"
        f" ms, p99 {ms[2]:.1f} ms, max {max(lat) * 1000:.1f} ms; errors {result.errors}"
        f"{' ' + str(dict(result.error_kinds)) if result.errors else ''}; "
        f"server CPU {cpu_s / max(1, events) * 1e6:.0f} us/event"
    )
    if result.lags_s:
        line += f"; generator lag p99 {percentile(result.lags_s, 0.99) * 1000:.1f} ms"
    return line


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=3000.0, help="paced events/s")
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ramp", default="3000,4500,6000,9000,12000")
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--target-p99-ms", type=float, default=25.0)
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop connections")
    parser.add_argument("--skip", default="", help="comma list of: ramp,closed,single")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    batch = args.batch
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        emulator, state = start_emulator(home)
        serve, url = start_serve(home / "serve", state, "--no-deliver")
        host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
        print(f"{os.cpu_count()} CPUs, {load_average()} before the runs")

        def run_paced(rate: float, seconds: float) -> tuple[Result, float]:
            count = int(rate / batch * seconds) + 1
            requests = requests_for(count, batch)
            before = cpu_seconds(serve.pid)
            result = asyncio.run(paced(host, port, requests, rate / batch, seconds))
            return result, cpu_seconds(serve.pid) - before

        try:
            run_paced(args.rate, 2.0)  # warm-up: imports, first pages of the database
            result, cpu = run_paced(args.rate, args.seconds)
            print(
                f"paced {args.rate:,.0f} events/s, batch={batch}, {args.seconds:.0f} s: "
                f"{describe(result, batch, cpu)} ({load_average()})"
            )
            if "ramp" not in skip:
                best = None
                for rate in (float(r) for r in args.ramp.split(",")):
                    result, cpu = run_paced(rate, args.step_seconds)
                    achieved = result.requests * batch / result.elapsed_s
                    p99_ms = percentile(result.latencies_s, 0.99) * 1000
                    kept = (
                        achieved >= 0.97 * rate
                        and p99_ms <= args.target_p99_ms
                        and not result.errors
                    )
                    print(
                        f"  step {rate:,.0f} events/s: {describe(result, batch, cpu)} "
                        f"-> {'kept' if kept else 'NOT kept'} ({load_average()})"
                    )
                    if kept:
                        best = rate
                print(
                    f"maximum sustainable paced rate with p99 <= {args.target_p99_ms:.0f} ms: "
                    f"{best:,.0f} events/s"
                    if best
                    else "no step kept the target"
                )
            if "closed" not in skip:
                requests = requests_for(int(args.seconds * 15_000 / batch), batch)
                before = cpu_seconds(serve.pid)
                result = asyncio.run(closed(host, port, requests, args.concurrency, args.seconds))
                cpu = cpu_seconds(serve.pid) - before
                print(
                    f"saturation, closed loop, batch={batch} concurrency={args.concurrency}: "
                    f"{describe(result, batch, cpu)} ({load_average()})"
                )
            if "single" not in skip:
                requests = requests_for(int(args.seconds * 1_500), 1)
                before = cpu_seconds(serve.pid)
                result = asyncio.run(closed(host, port, requests, args.concurrency, args.seconds))
                cpu = cpu_seconds(serve.pid) - before
                print(
                    f"saturation, closed loop, /v1/identify concurrency={args.concurrency}: "
                    f"{describe(result, 1, cpu)} ({load_average()})"
                )
        finally:
            stop(serve)
            stop(emulator)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
