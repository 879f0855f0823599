"""``ghlsync serve`` / ``ghlsync events`` refuse bad input with one line and exit code 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from ghlsync.cli import app as root_app
from ghlsync.cli import events as events_cli
from ghlsync.events import hash_key


def _cli(*args: str) -> object:
    if not any(c.name == "events" for c in root_app.registered_groups):
        events_cli.register(root_app)
    return CliRunner().invoke(root_app, list(args))


def test_serve_without_a_source_is_one_line_exit_2() -> None:
    result = _cli("serve")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "nothing to serve" in output and "--write-key" in output and "Traceback" not in output


def test_serve_port_out_of_range_is_one_line_exit_2() -> None:
    result = _cli("serve", "--location", "L", "--write-key", "k", "--port", "99999")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "--port" in output and "65535" in output and "Traceback" not in output


def test_serve_config_with_unknown_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text(
        "sources:\n  - {name: web, location_id: L, write_key_sha256: "
        f"{hash_key('k')}, colour: blue}}\n"
    )
    result = _cli("serve", "--config", str(config))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "sources.0.colour" in result.output and "Traceback" not in result.output  # type: ignore[attr-defined]
    missing = _cli("serve", "--config", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2 and "cannot read" in missing.output  # type: ignore[attr-defined]
    bad_queue = _cli("serve", "--location", "L", "--write-key", "k", "--queue", "kafka://x")
    assert bad_queue.exit_code == 2 and "queue" in bad_queue.output  # type: ignore[attr-defined]


def test_hash_key_prints_the_digest() -> None:
    result = _cli("events", "hash-key", "my-key")
    assert result.exit_code == 0 and result.output.strip() == hash_key("my-key")  # type: ignore[attr-defined]


def test_a_worker_whose_redis_is_unreachable_says_so_once_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    """A wrong ``--queue`` is a warning line (not one per retry, ~50 a second before), the
    retries back off, and Ctrl-C drains without a traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as dead:
        dead.bind(("127.0.0.1", 0))
        queue = f"redis://127.0.0.1:{dead.getsockname()[1]}/0"
        process = subprocess.Popen(
            [sys.executable, "-c", "from ghlsync.cli import main; main()", "events", "work",
             "--queue", queue, "--location", "L"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "GHLSYNC_HOME": str(tmp_path)},
        )  # fmt: skip
        assert process.stderr is not None
        first = process.stderr.readline()  # "worker started": the loop is running
        assert "started" in first
        deadline = time.monotonic() + 30
        lines = [first]
        while time.monotonic() < deadline:
            lines.append(process.stderr.readline())
            if "unreachable" in lines[-1]:
                break
        time.sleep(2)  # the worker keeps retrying meanwhile: none of it may print a line
        process.send_signal(signal.SIGINT)
        _out, rest = process.communicate(timeout=30)
    lines += rest.splitlines()
    assert process.returncode == 0, rest
    assert "Traceback" not in rest
    assert sum("unreachable" in line for line in lines) == 1, lines
    assert sum("claiming" in line for line in lines) == 0, lines
    assert len([line for line in lines if line.strip()]) <= 6, lines
