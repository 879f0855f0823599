"""Shared helpers of the extract benchmarks (not a benchmark itself)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions, parse_rate_limit
from ghlsync.extract.config import ExtractConfig
from ghlsync.extract.run import ExtractResult, run_extract


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def start_emulator(
    locations: int, contacts: int, rate_limit: str | None, opportunities: int = 0
) -> EmulatorServer:
    settings = EmulatorSettings(
        rate_limit=parse_rate_limit(rate_limit) if rate_limit else None, daily_limit=None
    )
    options = SeedOptions(
        locations=locations, contacts=contacts, opportunities=opportunities, seed=3
    )
    return EmulatorServer(options, settings).start()


def config_for(
    locations: list[dict[str, str]], base_url: str, *, rate: tuple[int, float] | None, **kw: Any
) -> ExtractConfig:
    if rate is not None:
        kw["burst"], kw["interval"] = rate
    return ExtractConfig.of(
        [loc["id"] for loc in locations],
        tokens={loc["id"]: loc["token"] for loc in locations},
        base_url=base_url,
        rate_limit=rate is not None,
        **kw,
    )


def counts(base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base_url}/_emulator/counts", timeout=30).json()
    return data


def statuses(data: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for by_status in data["operations"].values():
        for status, n in by_status.items():
            out[status] = out.get(status, 0) + n
    return out


def extract_to_tmp(config: ExtractConfig) -> tuple[ExtractResult, float]:
    with tempfile.TemporaryDirectory(prefix="ghlsync-bench-") as tmp:
        started = time.monotonic()
        result = run_extract(
            config, to=f"duckdb:///{tmp}/bench.duckdb", pipelines_dir=f"{tmp}/pipelines"
        )
        return result, time.monotonic() - started


def serve_in_subprocess(
    locations: int, contacts: int, rate_limit: str = "off"
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``ghlsync emulator serve`` in its own process; returns it and its state document."""
    state = Path(tempfile.mkdtemp(prefix="ghlsync-bench-")) / "state.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ghlsync.cli import main; main()",
            "emulator",
            "serve",
            "--port",
            "0",
            "--locations",
            str(locations),
            "--contacts",
            str(contacts),
            "--rate-limit",
            rate_limit,
            "--daily-limit",
            "off",
            "--state-out",
            str(state),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while not state.exists() or not state.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("emulator did not start")
        time.sleep(0.2)
    time.sleep(0.2)
    return process, json.loads(state.read_text())
