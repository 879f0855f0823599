"""Whatever a user gets wrong ends in one ``error:`` line and the documented exit code, never a
traceback (issue 15 item 6). Nothing here needs a server: each input is refused up front."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = "from ghlsync.cli import main; main()"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"base_url": "http://127.0.0.1:9", "locations": ["loc1"]}))
    return path


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["extract", "-c", "{config}", "--to", "parquet:///proc/nope/x"], 2, "/proc/nope"),
        (["quickstart", "--database", "/nonexistent-dir/q.duckdb"], 2, "/nonexistent-dir"),
        (["push", "--from", "missing.csv", "--mapping", "m.yaml", "-l", "L"], 2, "m.yaml"),
        (["sql", "-d", "/nonexistent.duckdb", "select 1"], 2, "/nonexistent.duckdb"),
        (["tap", "-c", "missing.json"], 2, "missing.json"),
    ],
)
def test_user_errors_are_one_line_with_the_exit_code(
    tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    args = [a.replace("{config}", str(_config(tmp_path))) for a in args]
    done = _run(tmp_path, *args)
    lines = done.stderr.splitlines()
    assert done.returncode == code, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert words in lines[0] and "Traceback" not in done.stderr


def test_the_tap_refuses_the_emulators_state_document(tmp_path: Path) -> None:
    document = {"baseUrl": "http://127.0.0.1:8765", "locations": [{"id": "L", "token": "t"}]}
    (tmp_path / "emulator-state.json").write_text(json.dumps(document))
    done = _run(tmp_path, "tap", "-c", str(_config(tmp_path)), "--state", "emulator-state.json")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "emulator's state document" in lines[0] and done.stdout == ""


def test_the_emulator_refuses_to_overwrite_a_tap_state(tmp_path: Path) -> None:
    tap_state = tmp_path / "tap-state.json"
    tap_state.write_text(json.dumps({"bookmarks": {"contacts": {"L": {"cursor": "x"}}}}))
    done = _run(tmp_path, "emulator", "serve", "--port", "0", "--state-out", str(tap_state))
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "Singer tap state" in lines[0]
    assert "bookmarks" in tap_state.read_text()  # untouched


def test_serve_with_a_bad_config_is_one_line_with_one_hint(tmp_path: Path) -> None:
    (tmp_path / "serve.yaml").write_text("sources: 3\n")
    done = _run(tmp_path, "serve", "--config", "serve.yaml")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: serve.yaml") and lines[0].lower().count("hint") == 1


def test_serve_on_a_busy_port_names_it_in_one_error_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run(tmp_path, "serve", "--location", "L", "--write-key", "k", "--port", str(port))
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2, done.stderr
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0] and "--port" in errors[0]
    assert "Traceback" not in done.stderr
