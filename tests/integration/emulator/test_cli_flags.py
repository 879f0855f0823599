"""``ghlsync emulator serve`` flags of issue 16: ``--search-delay-ms`` / ``--search-delay``
(the search lag, on by default) and ``--webhook-time-scale``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_bad_values_are_one_clear_error_and_exit_2() -> None:
    ghlsync = Path(sys.executable).with_name("ghlsync")
    for flag in ("--search-delay-ms", "--webhook-time-scale"):
        done = subprocess.run(
            [str(ghlsync), "emulator", "serve", flag, "-1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        text = " ".join(done.stderr.replace("│", " ").split())
        assert "must be >= 0" in text and "Traceback" not in done.stderr


def test_serve_with_the_lag_off_and_scaled_webhook_retries(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    ghlsync = Path(sys.executable).with_name("ghlsync")
    command = [str(ghlsync), "emulator", "serve", "--port", "0", "--contacts", "10"]
    command += ["--search-delay", "0", "--webhook-time-scale", "0.001"]
    command += ["--state-out", str(state_file)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        base = json.loads(state_file.read_text())["baseUrl"]
        for _ in range(100):
            try:
                settings = httpx.get(f"{base}/_emulator/settings").json()
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert settings["searchIndexDelayMs"] == 0
        assert httpx.get(f"{base}/_emulator/webhooks").json()["timeScale"] == 0.001
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
