"""``ghlsync emulator serve``: stdout carries only the state document (the access log goes
to stderr), and Ctrl-C stops it gracefully with 130 and no traceback (issue 15 item 7)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import httpx

CLI = "from ghlsync.cli import main; main()"


def _read_until(fd: int, needle: str, timeout_s: float) -> str:
    """What the process wrote to ``fd`` up to and including ``needle`` (its access log line)."""
    seen = b""
    deadline = time.monotonic() + timeout_s
    while needle.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} on stderr within {timeout_s} s: {seen[-2000:]!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"stderr closed before {needle!r}: {seen[-2000:]!r}"
            seen += chunk
    return seen.decode()


def test_stdout_is_the_state_document_alone_and_ctrl_c_stops_it() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "emulator", "serve", "--port", "0", "--contacts", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    text, line = "", ""
    while line != "}\n":  # the document's closing brace, alone on its line
        line = process.stdout.readline()
        assert line, "the emulator stopped before printing its state document"
        text += line
    document = json.loads(text)
    location = document["locations"][0]
    answer = httpx.get(
        f"{document['baseUrl']}/locations/{location['id']}",
        headers={"Authorization": f"Bearer {location['token']}", "Version": "2021-07-28"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert process.stderr is not None
    logged = _read_until(process.stderr.fileno(), f"GET /locations/{location['id']}", 30)
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=30)
    err = logged + err
    assert rest == ""  # no access log after the JSON
    assert f"GET /locations/{location['id']}" in err
    assert process.returncode in (0, 130) and "Traceback" not in err
