"""Riding out an outage (issue 11, item 4): HighLevel stops answering for 8 s in the middle of
``ghlsync extract``; the run waits (one line saying so), then completes with every row.

The outage is a TCP proxy in front of the emulator that closes its port and every connection,
then opens the port again: the client sees refused connections and resets, as when a server
restarts. Before the outage window, the client gave up after 5 attempts (at most 7.5 s of
backoff), so an 8 s outage failed the location.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from ghlsync.emulator import EmulatorServer
from tests.integration.extract.conftest import admin, config_for, emulator_items

CLI = "from ghlsync.cli import main; main()"


class Proxy:
    """Forwards 127.0.0.1:<port> to the emulator; ``outage()`` closes everything for a while."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.open()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._listener is not None:
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_an_outage_mid_run_is_waited_out_with_one_line(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    host, port = emulator.base_url.split("//", 1)[1].rsplit(":", 1)
    proxy = Proxy((host, int(port)))
    config = config_for(emulator)
    config_file = tmp_path / "c.json"
    config_file.write_text(
        json.dumps(
            {
                "base_url": f"http://127.0.0.1:{proxy.port}",
                "locations": [{"id": i, "token": config.tokens[i]} for i in config.locations],
                "rate_limit": False,
                "page_size": 20,
                "streams": ["contacts", "opportunities", "users"],
            }
        )
    )
    db = tmp_path / "x.duckdb"
    admin(emulator, "PUT", "/faults", json={"faults": "slow:1@0.2s", "seed": 1})
    before = admin(emulator, "GET", "/counts")["total"]
    command = [sys.executable, "-c", CLI, "extract", "--config", str(config_file)]
    command += ["--to", f"duckdb:///{db}", "--pipelines-dir", str(tmp_path / "p"), "--json"]
    command += ["--outage-window", "120"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while admin(emulator, "GET", "/counts")["total"] < before + 4:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        proxy.close()
        time.sleep(8.0)
        proxy.open()
        stdout, stderr = process.communicate(timeout=300)
    finally:
        proxy.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]
    waiting = [line for line in stderr.splitlines() if "waiting for HighLevel" in line]
    back = [line for line in stderr.splitlines() if "answers again after" in line]
    assert len(waiting) == 1 and "retrying for up to 120 s" in waiting[0], stderr
    assert len(back) == 1, stderr
    assert "retry" not in stderr.replace(waiting[0], "")  # no line per attempt
    assert json.loads(stdout)["ok"] is True
    with duckdb.connect(str(db), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM highlevel.contacts").fetchall()]
    expected = {
        c["id"] for loc in config.locations for c in emulator_items(emulator, loc, "contacts")
    }
    assert len(ids) == len(set(ids)) == 240 and set(ids) == expected
