"""Shared helpers of the push benchmarks (not a benchmark itself)."""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
GHLSYNC = str(Path(sys.executable).parent / "ghlsync")


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} CPUs, load {load:.1f}, Python {platform.python_version()}"


@contextmanager
def emulator(
    workdir: Path, *, locations: int = 1, rate_limit: str = "off", contacts: int = 0
) -> Iterator[dict[str, Any]]:
    """``ghlsync emulator serve`` in its own process; yields its state document."""
    state = workdir / "emulator-state.json"
    command = [GHLSYNC, "emulator", "serve", "--port", "0", "--locations", str(locations),
               "--contacts", str(contacts), "--opportunities", "0", "--rate-limit", rate_limit,
               "--daily-limit", "off", "--state-out", str(state)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        document: dict[str, Any] = json.loads(state.read_text())
        yield document
    finally:
        process.terminate()
        process.wait(timeout=30)


def admin(base_url: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{base_url}/_emulator{path}", timeout=60, **kwargs)
    response.raise_for_status()
    return response.json()


def total_calls(base_url: str) -> int:
    return int(admin(base_url, "GET", "/counts")["total"])


def write_people(path: Path, count: int, *, changed: set[int] = frozenset(),  # type: ignore[assignment]
                 retagged: set[int] = frozenset()) -> Path:  # type: ignore[assignment]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "phone", "first_name", "last_name", "company", "segment"])
        for i in range(count):
            writer.writerow([
                f"person{i}@bench.example.com",
                f"+1415{5550000 + i % 9000000:07d}" if i % 3 else "",
                f"First{i}",
                f"Last{i}",
                f"Company {i % 97}" + (" (changed)" if i in changed else ""),
                "gold" if i in retagged else ("vip" if i % 5 == 0 else "member"),
            ])  # fmt: skip
    return path


MAPPING = {
    "fields": {
        "email": "email",
        "phone": "phone",
        "firstName": "first_name",
        "lastName": "last_name",
        "companyName": "company",
    },
    "tags": ["bench"],
    "tags_from": ["segment"],
}
