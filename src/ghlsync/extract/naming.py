"""Column and table names as dlt's default ``snake_case`` convention makes them, without dlt.

The Arrow shaper names every column, and the DuckDB loader needs no other part of dlt, so the
rule is ours (importing dlt's naming module imports all of dlt: about a second and 40 MiB).
It must give exactly dlt's names, or a warehouse dlt made would get a second column for the
same key: ``tests/unit/extract/test_naming.py`` checks it against dlt over every key the
emulator's records carry and the odd cases.

- spaces around the key are trimmed;
- ``+`` and ``*`` become ``x``, ``-`` becomes ``_``, ``@`` becomes ``a``, ``|`` becomes ``l``;
- any other run of characters outside ``[a-zA-Z0-9_]`` becomes ``_``;
- camelCase breaks into words (``dndSettings`` -> ``dnd_settings``), then everything is
  lower case;
- a leading digit gets a ``_`` before it; trailing underscores become ``x`` each;
- runs of underscores shrink to one.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

__all__ = ["default_pipelines_dir", "snake_case"]

_REDUCE = str.maketrans("+-*@|", "x_xal")
_NON_ALPHANUMERIC = re.compile(r"[^a-zA-Z\d_]+")
_BREAK_WORD = re.compile("([^_])([A-Z][a-z]+)")
_BREAK_CASE = re.compile("([a-z0-9])([A-Z])")
_LEADING_DIGITS = re.compile(r"^\d+")
_UNDERSCORES = re.compile("__+")


@lru_cache(maxsize=4096)
def snake_case(identifier: str) -> str:
    """``identifier`` as a column or table name (``ValueError`` for a blank one, as dlt)."""
    text = identifier.strip()
    if not text:
        raise ValueError(f"a blank name cannot be a column: {identifier!r}")
    text = _NON_ALPHANUMERIC.sub("_", text.translate(_REDUCE))
    text = _BREAK_WORD.sub(r"\1_\2", text)
    text = _BREAK_CASE.sub(r"\1_\2", text).lower()
    if _LEADING_DIGITS.match(text):
        text = "_" + text
    stripped = text.rstrip("_")
    text = stripped + "x" * (len(text) - len(stripped))
    return _UNDERSCORES.sub("_", text)


def default_pipelines_dir() -> Path:
    """Where dlt keeps pipelines' working dirs by default (``dlt.common.pipeline.
    get_dlt_pipelines_dir``): ``$DLT_DATA_DIR/pipelines``; else ``/var/dlt/pipelines`` for
    root, ``$XDG_DATA_HOME/dlt/pipelines`` when set and ``~/.dlt`` does not exist,
    ``~/.dlt/pipelines``, or a temp dir's ``dlt/pipelines`` without a writable home."""
    data = os.environ.get("DLT_DATA_DIR")
    if data:
        return Path(data) / "pipelines"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/dlt/pipelines")
    home = os.path.expanduser("~")
    if not home or not os.access(home, os.W_OK):
        return Path(tempfile.gettempdir()) / "dlt" / "pipelines"
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and not os.path.isdir(os.path.join(home, ".dlt")):
        return Path(xdg) / "dlt" / "pipelines"
    return Path(home) / ".dlt" / "pipelines"
