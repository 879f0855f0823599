"""``ghlsync emulator serve``: stdout carries only the state document (the access log goes
to stderr), and Ctrl-C stops it gracefully with 130 and no traceback (issue 15 item 7)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx

CLI = "from ghlsync.cli import main; main()"


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
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=30)
    assert rest == ""  # no access log after the JSON
    assert f"GET /locations/{location['id']}" in err
    assert process.returncode in (0, 130) and "Traceback" not in err
