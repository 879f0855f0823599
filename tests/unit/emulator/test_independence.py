"""The emulator is built from the API contract alone: importing all of it loads none of
ghlsync's client, mapping, extract, push or events code (one misunderstanding cannot hide in
both the client and the emulator)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

FORBIDDEN = (
    "ghlsync.client",
    "ghlsync.mapping",
    "ghlsync.extract",
    "ghlsync.push",
    "ghlsync.events",
)


def test_importing_every_emulator_module_loads_no_client_code() -> None:
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        import ghlsync.emulator as emulator
        names = [info.name for info in pkgutil.walk_packages(emulator.__path__, "ghlsync.emulator.")]
        for name in names:
            importlib.import_module(name)
        import ghlsync.emulator.app, ghlsync.emulator.server
        app = ghlsync.emulator.create_app(ghlsync.emulator.build(ghlsync.emulator.SeedOptions(contacts=5))[0])
        loaded = sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r}))
        print(len(names), loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    count, _, loaded = result.stdout.strip().partition(" ")
    assert int(count) > 25  # every module was imported
    assert loaded == "[]", f"the emulator pulled in {loaded}"
