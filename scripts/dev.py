#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+.

    python3 scripts/dev.py quickstart   # set up, then run the demo extract (emulator + DuckDB)
    python3 scripts/dev.py test         # set up, then lint, type-check and run the tests
    python3 scripts/dev.py setup        # only create .venv and install ghlsync[dev] (+ target-jsonl)
    python3 scripts/dev.py target-jsonl # only the Singer target the tap test pipes into

It creates `.venv` beside this repository, installs `uv` into it for speed (falling back to plain
pip), installs ghlsync in editable mode with its dev extras, and runs the job inside that venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".ghlsync-installed"
#: the Singer target of tests/integration/extract/test_singer.py, in its own venv: its pinned
#: jsonschema==2.6.0 conflicts with the dev dependencies
TARGET_JSONL = "target-jsonl==0.1.4"
TARGET_VENV = ROOT / ".venv-target-jsonl"
TARGET_BIN = TARGET_VENV / ("Scripts" if os.name == "nt" else "bin")
TARGET_STAMP = TARGET_VENV / ".ghlsync-target-jsonl-0.1.4"


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be run by an older python3
        sys.exit("ghlsync needs Python 3.11 or newer")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject = ROOT / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        target_jsonl()
        chromium()
        return
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv")
    spec = ["-e", f"{ROOT}[dev]"]
    # bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on some machines) every
    # run would otherwise recompile ~930 modules (issue 17)
    uv = [BIN / "uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", PY, *spec]
    if run(*uv, check=False) != 0:
        run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *spec)
    # the editable install leaves our own modules uncompiled: compile them too
    run(PY, "-m", "compileall", "-q", ROOT / "src", check=False)
    STAMP.touch()
    target_jsonl()
    chromium()


CHROMIUM = Path("/usr/bin/chromium")


def chromium() -> None:
    """Debian's ``chromium`` for the event debugger's browser test (Playwright drives it through
    ``executable_path``); installed with apt-get when missing and possible (root, Debian)."""
    if CHROMIUM.exists() or os.name == "nt" or not Path("/usr/bin/apt-get").exists():
        return
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and run("sudo", "-n", "true", check=False) != 0:
        print("chromium is missing and apt-get needs root: the browser test will be skipped")
        return
    apt = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]  # no stdin in CI
    run(*apt, "update", "-qq", check=False)
    run(*apt, "install", "-y", "-qq", "chromium", check=False)


def target_jsonl() -> Path:
    """``target-jsonl`` (pinned) in ``.venv-target-jsonl``, installed once (stamp file)."""
    executable = TARGET_BIN / ("target-jsonl.exe" if os.name == "nt" else "target-jsonl")
    if TARGET_STAMP.exists() and executable.exists():
        return executable
    if not (TARGET_BIN / ("python.exe" if os.name == "nt" else "python")).exists():
        venv.EnvBuilder(with_pip=True).create(TARGET_VENV)
    python = TARGET_BIN / ("python.exe" if os.name == "nt" else "python")
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", TARGET_JSONL)
    TARGET_STAMP.touch()
    return executable


def test(extra: list[str]) -> int:
    setup()
    paths = [p for p in ("src", "tests", "benchmarks", "scripts") if (ROOT / p).exists()]
    checks: list[list[str | Path]] = [
        [BIN / "ruff", "check", *paths],
        [BIN / "ruff", "format", "--check", *paths],
        [BIN / "mypy", "--strict", "src"],
    ]
    for cmd in checks:
        if run(*cmd, check=False) != 0:
            return 1
    return run(PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, check=False)


def quickstart(extra: list[str]) -> int:
    setup()
    return run(BIN / "ghlsync", "quickstart", *extra, check=False)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"setup", "test", "quickstart", "target-jsonl"}:
        print(__doc__)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup()
        return 0
    if command == "target-jsonl":
        print(target_jsonl())
        return 0
    if command == "test":
        return test(extra)
    return quickstart(extra)


if __name__ == "__main__":
    sys.exit(main())
