"""The emulator as a server on a real socket and through ``ghlsync emulator serve`` (issue 11
items 5 and 6): a 500 keeps the keep-alive connection; beyond loopback an admin token is
required; the state file is 0600; a busy port or a bad flag ends in one line, exit 2.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghlsync.emulator import EmulatorServer, EmulatorSettings, SeedOptions

GHLSYNC = Path(sys.executable).with_name("ghlsync")


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(seed=3, rate_limit=None)
    with EmulatorServer(SeedOptions(locations=1, contacts=20, seed=3), settings) as running:
        yield running


def _exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send one HTTP/1.1 request on ``sock``; the status and JSON body of its answer."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        body += chunk
    return int(lines[0].split()[1]), json.loads(body)


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: emulator", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_a_500_and_bad_bodies_keep_the_keep_alive_connection(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On main every 500 (admin or API) closed the connection, so a client's pool lost it."""

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(server.store, "expire_tokens", explode)
    location = server.state.locations[0]
    auth = {"Authorization": f"Bearer {location['token']}", "Version": "2021-07-28"}
    json_type = {"Content_Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        status, body = _exchange(
            sock, _request("POST", "/_emulator/tokens/expire", b"{}", **json_type)
        )
        assert status == 500 and body["error"] == "Internal Server Error"
        status, body = _exchange(sock, _request("POST", "/contacts/", deep, **auth, **json_type))
        assert status == 400 and "nested" in body["message"]
        status, body = _exchange(
            sock, _request("POST", "/_emulator/clock/advance", b'{"seconds": 1e400}', **json_type)
        )
        assert status == 400
        status, body = _exchange(sock, _request("GET", "/_emulator/requests?limit=5"))
        assert status == 200
        status, body = _exchange(sock, _request("GET", f"/locations/{location['id']}", **auth))
        assert status == 200 and body["location"]["id"] == location["id"]


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(GHLSYNC), "emulator", "serve", "--contacts", "10", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def _one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> str:
    """Run ``ghlsync emulator serve ARGS`` through the entry point (in-process: it fails before
    it serves); its one stderr line."""
    from ghlsync.cli import main

    monkeypatch.setattr(sys, "argv", ["ghlsync", "emulator", "serve", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 2, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Hint: " in lines[0]
    return lines[0]


def test_a_public_host_without_an_admin_token_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GHLSYNC_EMULATOR_ADMIN_TOKEN", raising=False)
    line = _one_line_error(capsys, monkeypatch, "--host", "0.0.0.0", "--port", "0")
    assert "admin token" in line and "--admin-token" in line


def test_a_busy_port_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = _one_line_error(capsys, monkeypatch, "--port", str(port))
    assert f"127.0.0.1:{port}" in line and "in use" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "abc"], "--port"),
        (["--port", "70000"], "--port"),
        (["--bogus"], "No such option: --bogus"),
        (["--rate-limit", "fast"], "rate limit must look like"),
        (["--faults", "500:2"], "within 0..1"),
        (["--count", "products"], "--count takes kind=N"),
        (["--anchor", "yesterday"], "anchor must be an ISO date"),
        (["--daily-limit", "lots"], "--daily-limit"),
    ],
)
def test_a_bad_flag_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: str,
) -> None:
    assert expected in _one_line_error(capsys, monkeypatch, *args)


def test_a_bad_flag_is_one_line_from_the_installed_command() -> None:
    """The same through the ``ghlsync`` executable, once."""
    result = subprocess.run(
        [str(GHLSYNC), "emulator", "serve", "--port", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Invalid value for '--port'")


def _wait_for(path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            try:
                document: dict[str, Any] = json.loads(path.read_text())
                if "baseUrl" in document:
                    return document
            except ValueError:
                pass
        time.sleep(0.05)
    raise AssertionError("the emulator did not write its state file")


def test_a_public_host_serves_with_a_token_and_the_state_file_is_0600(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text("{}")
    state_file.chmod(0o644)  # an existing, readable file is narrowed, not kept as it was
    token = "an-admin-token-0123456789"
    process = _serve(
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--state-out",
        str(state_file),
        env={"GHLSYNC_EMULATOR_ADMIN_TOKEN": token},
    )
    try:
        document = _wait_for(state_file)
        assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
        port = int(document["baseUrl"].rsplit(":", 1)[1])
        base = f"http://127.0.0.1:{port}"
        refused = httpx.get(f"{base}/_emulator/state", timeout=10)
        assert refused.status_code == 401
        allowed = httpx.get(
            f"{base}/_emulator/state", headers={"X-Emulator-Admin": token}, timeout=10
        )
        assert allowed.status_code == 200
        assert token not in allowed.text
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert token not in stderr


def test_admin_token_flag_on_loopback(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    process = _serve(
        "--port", "0", "--admin-token", "flag-token-42", "--state-out", str(state_file)
    )
    try:
        document = _wait_for(state_file)
        assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
        health = f"{document['baseUrl']}/_emulator/health"
        assert httpx.get(health, timeout=10).status_code == 401
        ok = httpx.get(health, headers={"X-Emulator-Admin": "flag-token-42"}, timeout=10)
        assert ok.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)


@pytest.mark.parametrize("argv", [["extract", "--bogus"], ["auth", "status", "--nope"]])
def test_a_bad_flag_of_any_command_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """The entry point turns click's usage block into one line for every command group."""
    from ghlsync.cli import main

    monkeypatch.setattr(sys, "argv", ["ghlsync", *argv])
    with pytest.raises(SystemExit) as exited:
        main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 2
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: No such option"), stderr
    assert f"Hint: see 'ghlsync {argv[0]}" in lines[0]
