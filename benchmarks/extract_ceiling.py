#!/usr/bin/env python3
"""`ghlsync extract` against issue 17's targets, with `ghlsync tap` as the in-run reference.

    .venv/bin/python benchmarks/extract_ceiling.py [--contacts 100000] [--million]

Every command runs as users run it (`ghlsync extract` / `ghlsync tap`, each its own process,
its peak memory its own ``ru_maxrss`` from ``wait4``) against `ghlsync emulator serve` in
processes of their own:

1. start-up: from spawning the command to the first request reaching a probe server (which
   answers 401, so the command then stops), once the emulators have seeded;
2. limits off, one location of ``--contacts`` contacts into DuckDB: contacts per second of the
   whole process (start-up and load included) and its peak memory; the tap's rate (into
   /dev/null) beside it, and the rate of bare paging (``AsyncGHLClient.contacts.pages``, nothing
   shaped or stored): what the emulator can serve on this machine, the ceiling of both;
3. HighLevel's limit (``--limit``, 100 requests / 10 s), a location of ``--contacts``
   contacts each for the tap and the extract: the whole run against the least the limit
   permits for its requests (``ceil(R / B - 1) * W``), and the 429s drawn;

Start-up and the limits-off runs are repeated ``--repeat`` times (default 3), the tap's and the
extract's alternating, and their medians compared (every run is printed): on a shared machine
a single run can be off by a tenth either way. The rate-limited runs are repeated too, each on
a location of its own.
4. with ``--million``: the peak memory of a 1,000,000-contact run against (2)'s (seeding a
   million contacts takes the emulator over a minute and ~3 GB).

Each target is printed PASS or MISS; figures are JSON on stdout. The machine's load average is
printed too: on a shared machine absolute rates move, the ratios less.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
GHLSYNC = [sys.executable, "-c", "from ghlsync.cli import main; main()"]
TARGET_RATE = 20_000
TARGET_MEMORY_MIB = 150
TARGET_STARTUP_S = 1.0
TARGET_CEILING = 1.1
TARGET_GROWTH = 1.2


def machine() -> str:
    sys.path.insert(0, str(HERE))
    from extract_common import machine as describe

    return describe()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def serve(locations: int, contacts: int, rate_limit: str) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``ghlsync emulator serve``; returns the process and where its state appears."""
    state = Path(tempfile.mkdtemp(prefix="ghlsync-ceiling-")) / "state.json"
    process = subprocess.Popen(
        [
            *GHLSYNC,
            "emulator",
            "serve",
            "--port",
            "0",
            "--locations",
            str(locations),
            "--contacts",
            str(contacts),
            "--opportunities",
            "0",
            "--rate-limit",
            rate_limit,
            "--daily-limit",
            "off",
            "--search-delay-ms",
            "0",
            "--state-out",
            str(state),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, state


def ready(process: subprocess.Popen[bytes], state: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 900
    while not state.exists() or not state.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.2)
    time.sleep(0.2)
    data: dict[str, Any] = json.loads(state.read_text())
    return data


def config_file(base_url: str, location: dict[str, str], limited: bool, directory: Path) -> Path:
    path = directory / f"config-{location['id']}-{int(limited)}.json"
    config = {
        "base_url": base_url,
        "locations": [{"id": location["id"], "token": location["token"]}],
        "streams": ["contacts"],
        "rate_limit": limited,
    }
    path.write_text(json.dumps(config))
    return path


def run(command: list[str], stdout: Any = subprocess.DEVNULL) -> dict[str, Any]:
    """Run ``command``; wall seconds, peak RSS (MiB) and exit code."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(seconds, 2),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "exit_code": process.returncode,
        "stderr_tail": err.decode(errors="replace")[-300:] if process.returncode else "",
    }


def extract(config: Path, directory: Path, name: str) -> list[str]:
    database = directory / f"{name}.duckdb"
    return [
        *GHLSYNC,
        "extract",
        "--config",
        str(config),
        "--to",
        f"duckdb:///{database}",
        "--pipelines-dir",
        str(directory / f"{name}-pipelines"),
        "--json",
    ]


def tap(config: Path) -> list[str]:
    return [*GHLSYNC, "tap", "--config", str(config)]


def first_request_seconds(command_for: Any, directory: Path) -> float:
    """Seconds from spawning a command to its first request at a probe answering 401."""
    arrived: list[float] = []

    class Probe(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if not arrived:
                arrived.append(time.monotonic())
            body = b'{"statusCode":401,"message":"Invalid JWT"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    config = config_file(
        base, {"id": "probeLocation0000001", "token": "pit-probe"}, False, directory
    )
    try:
        started = time.monotonic()
        process = subprocess.Popen(
            command_for(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        process.wait(timeout=120)
        if not arrived:
            raise SystemExit("the probe saw no request")
        return arrived[0] - started
    finally:
        server.shutdown()


def counts(base_url: str) -> dict[str, int]:
    data = httpx.get(f"{base_url}/_emulator/counts", timeout=60).json()
    out: dict[str, int] = {"total": int(data["total"])}
    for by_status in data["operations"].values():
        for status, n in by_status.items():
            out[status] = out.get(status, 0) + int(n)
    return out


RAW_PAGING = """
import asyncio, json, sys, time
from ghlsync.client import AsyncGHLClient
doc = json.loads(sys.argv[1])
async def main():
    started, n = time.monotonic(), 0
    async with AsyncGHLClient(doc["token"], base_url=doc["base_url"], limiter=None) as client:
        async for page in client.contacts.pages(doc["id"], page_size=500):
            n += len(page.records)
    print(json.dumps({"contacts": n, "seconds": time.monotonic() - started}))
asyncio.run(main())
"""


def raw_paging(base_url: str, location: dict[str, str]) -> dict[str, Any]:
    """Contacts per second of bare paging (the client, nothing shaped or stored)."""
    doc = {"base_url": base_url, "id": location["id"], "token": location["token"]}
    done = subprocess.run(
        [sys.executable, "-c", RAW_PAGING, json.dumps(doc)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout)
    figures["contacts_per_s"] = round(figures["contacts"] / figures["seconds"])
    figures["seconds"] = round(figures["seconds"], 2)
    return figures


def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--limit", default="100/10s")
    parser.add_argument("--million", action="store_true", help="also a 1,000,000-contact run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (medians)")
    args = parser.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    burst, window = args.limit.split("/")
    burst_n, window_s = int(burst), float(window.rstrip("s"))
    repeat = max(1, args.repeat)
    directory = Path(tempfile.mkdtemp(prefix="ghlsync-ceiling-"))
    out: dict[str, Any] = {"machine": machine(), "load_average_start": load_average()}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        free, free_state = serve(1, args.contacts, "off")
        limited, limited_state = serve(2 * repeat, 2 * repeat * args.contacts, args.limit)
        processes += [free, limited]
        free_doc, limited_doc = ready(free, free_state), ready(limited, limited_state)
        extract_starts, tap_starts = [], []
        for k in range(2 * repeat + 1):  # one more: the first spawn warms the disk cache
            name = f"p{k}"
            extract_starts.append(
                first_request_seconds(lambda c, name=name: extract(c, directory, name), directory)
            )
            tap_starts.append(first_request_seconds(tap, directory))
        extract_starts, tap_starts = extract_starts[1:], tap_starts[1:]
        startup = {
            "extract_s": round(statistics.median(extract_starts), 2),
            "tap_s": round(statistics.median(tap_starts), 2),
            "extract_runs": [round(x, 2) for x in extract_starts],
            "tap_runs": [round(x, 2) for x in tap_starts],
        }
        out["startup_to_first_request"] = startup

        location = free_doc["locations"][0]
        config = config_file(free_doc["baseUrl"], location, False, directory)
        n = args.contacts
        taps: list[dict[str, Any]] = []
        extracts: list[dict[str, Any]] = []
        raws: list[dict[str, Any]] = []
        for k in range(repeat):
            raws.append(raw_paging(free_doc["baseUrl"], location))
            taps.append(run(tap(config)))
            extracts.append(run(extract(config, directory, f"off{k}")))
        for runs in (taps, extracts):
            for figures in runs:
                figures["contacts_per_s"] = round(n / figures["seconds"])
        extract_off = {
            "seconds": median(extracts, "seconds"),
            "peak_mib": median(extracts, "peak_mib"),
            "cpu_seconds": median(extracts, "cpu_seconds"),
            "contacts_per_s": round(n / median(extracts, "seconds")),
        }
        out["limits_off"] = {
            "contacts": n,
            "raw_paging_contacts_per_s": round(median(raws, "contacts_per_s")),
            "tap": {
                "seconds": median(taps, "seconds"),
                "peak_mib": median(taps, "peak_mib"),
                "cpu_seconds": median(taps, "cpu_seconds"),
                "contacts_per_s": round(n / median(taps, "seconds")),
            },
            "extract": extract_off,
            "extract_over_tap_rate": round(median(taps, "seconds") / extract_off["seconds"], 2),
            "extract_over_raw_paging": round(
                extract_off["contacts_per_s"] / median(raws, "contacts_per_s"), 2
            ),
            "runs": {"raw_paging": raws, "tap": taps, "extract": extracts},
        }

        def least(requests: int) -> float:
            return max(math.ceil(requests / burst_n) - 1, 0) * window_s

        base = limited_doc["baseUrl"]
        limited_runs: dict[str, list[dict[str, Any]]] = {"tap": [], "extract": []}
        for k in range(repeat):
            for who in ("tap", "extract"):
                spot = limited_doc["locations"][2 * k + (who == "extract")]
                cfg = config_file(base, spot, True, directory)
                before = counts(base)
                command = tap(cfg) if who == "tap" else extract(cfg, directory, f"limited{k}")
                figures = run(command)
                after = counts(base)
                requests = after["total"] - before["total"]
                figures.update(
                    requests=requests,
                    responses_429=after.get("429", 0) - before.get("429", 0),
                    least_permitted_s=least(requests),
                    over_least=round(figures["seconds"] / least(requests), 3),
                )
                limited_runs[who].append(figures)
        out["rate_limited"] = {
            "limit": args.limit,
            "contacts": n,
            **{
                who: {
                    "over_least": median(runs, "over_least"),
                    "seconds": median(runs, "seconds"),
                    "peak_mib": median(runs, "peak_mib"),
                    "cpu_seconds": median(runs, "cpu_seconds"),
                    "requests": int(median(runs, "requests")),
                    "responses_429": sum(r["responses_429"] for r in runs),
                    "least_permitted_s": median(runs, "least_permitted_s"),
                }
                for who, runs in limited_runs.items()
            },
            "runs": limited_runs,
        }
        for process in (free, limited):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)

        if args.million:
            big, big_state = serve(1, 1_000_000, "off")
            processes.append(big)
            big_doc = ready(big, big_state)
            big_config = config_file(big_doc["baseUrl"], big_doc["locations"][0], False, directory)
            extract_big = run(extract(big_config, directory, "million"))
            out["million"] = {
                **extract_big,
                "contacts_per_s": round(1_000_000 / extract_big["seconds"]),
                "peak_over_100k": round(extract_big["peak_mib"] / extract_off["peak_mib"], 3),
            }
            big.send_signal(signal.SIGTERM)
            big.wait(timeout=120)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    out["load_average_end"] = load_average()
    limited_extract = out["rate_limited"]["extract"]
    targets = {
        "rate-limited whole run <= 1.1 x least permitted, 0 x 429": limited_extract["over_least"]
        <= TARGET_CEILING
        and limited_extract["responses_429"] == 0,
        "limits off >= 20,000 contacts/s (whole process)": out["limits_off"]["extract"][
            "contacts_per_s"
        ]
        >= TARGET_RATE,
        "peak memory <= 150 MiB": extract_off["peak_mib"] <= TARGET_MEMORY_MIB,
        "start-up to first request <= 1 s": startup["extract_s"] <= TARGET_STARTUP_S,
    }
    if "million" in out:
        targets["1,000,000 contacts: peak within 1.2 x of 100,000's"] = (
            out["million"]["peak_over_100k"] <= TARGET_GROWTH
        )
    out["targets"] = {name: verdict(ok) for name, ok in targets.items()}
    print(json.dumps(out, indent=2))
    for name, ok in targets.items():
        print(f"{verdict(ok)}  {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
