"""Shared by the events benchmarks: start ``ghlsync serve`` / the emulator as processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).with_name("ghlsync")
WRITE_KEY = "bench-write-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start_emulator(home: Path, *args: str) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``ghlsync emulator serve`` in its own process; returns it and its state document."""
    home.mkdir(parents=True, exist_ok=True)
    state_path = home / "emulator-state.json"
    port = free_port()
    command = [str(BIN), "emulator", "serve", "--port", str(port), "--locations", "1",
               "--contacts", "0", "--state-out", str(state_path), *args]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/_emulator/health")
    return process, json.loads(state_path.read_text())


def start_serve(
    home: Path, state: dict[str, Any], *args: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``ghlsync serve`` in its own process, pointed at the emulator of ``state``."""
    port = free_port()
    env = {
        **os.environ,
        "GHLSYNC_HOME": str(home),
        "GHL_BASE_URL": state["baseUrl"],
        "GHL_TOKEN": state["locations"][0]["token"],
    }
    command = [str(BIN), "serve", "--location", state["locations"][0]["id"],
               "--write-key", WRITE_KEY, "--port", str(port), *args]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/readyz")
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
