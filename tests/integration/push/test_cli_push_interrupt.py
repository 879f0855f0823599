"""Ctrl-C (SIGINT) during ``ghlsync push``: one line, exit 130; the rerun finishes without a
duplicate contact (issue 15 item 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ghlsync.emulator import EmulatorServer
from tests.integration.push.conftest import admin, by_email, loc, token

CLI = "from ghlsync.cli import main; main()"


def test_ctrl_c_mid_push_is_one_line_130_and_the_rerun_duplicates_nothing(
    server: EmulatorServer, tmp_path: Path
) -> None:
    rows = 120
    source = tmp_path / "people.csv"
    source.write_text(
        "email,first_name\n" + "".join(f"ctrlc{n}@example.com,P{n}\n" for n in range(rows))
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields: {email: email, firstName: first_name}\n")
    env = {
        **os.environ,
        "GHL_BASE_URL": server.base_url,
        "GHL_TOKEN": token(server),
        "GHLSYNC_HOME": str(tmp_path / "home"),
    }
    command = [sys.executable, "-c", CLI, "push", "--from", str(source), "--mapping"]
    command += [str(mapping), "-l", loc(server), "--no-rate-limit", "--concurrency", "2"]
    admin(server, "PUT", "/faults", json={"faults": "slow:1@0.1s", "seed": 1})
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        written = sum(1 for email in by_email(server) if email.startswith("ctrlc"))
        if written >= 5:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted:"), err
    assert "Traceback" not in err and out == ""

    admin(server, "PUT", "/faults", json={"faults": ""})
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = {e: c for e, c in by_email(server).items() if e.startswith("ctrlc")}
    assert len(found) == rows and all(len(c) == 1 for c in found.values())
