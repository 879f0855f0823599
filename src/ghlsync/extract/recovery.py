"""What a killed run leaves in dlt's pipeline working dir, recovered or discarded before a run.

dlt writes a run's data in steps, each committed by renaming a directory:

- extract writes into ``normalize/<8 random chars>/`` and renames the package to
  ``normalize/extracted/<load id>/``. A run killed before that rename leaves the random
  directory behind (megabytes each); nothing of it was committed, and the local state (the
  bookmarks) was not saved either: it is **discarded**.
- normalize writes ``load/new/<load id>/``, renames it to ``load/normalized/<load id>/`` and then
  deletes the extracted copy. A run killed between the two leaves an extracted copy of a package
  that is already normalized, perhaps half-deleted (no ``schema.json``), which failed every later
  run: the leftover copy is removed and the normalized package loads (**recovered**).
- a package that cannot be read (no ``schema.json``, no job folders: what two runs racing on one
  pipeline produced) is loaded from its intact extracted copy when there is one (**recovered**),
  else **discarded**, and the local state is dropped so that dlt restores the bookmarks from the
  destination (the last committed ones): the rerun reads again what the package held.

Every action is one line in the run's warnings. Run it only under the pipeline's lock
(``ghlsync.extract.lock``): a package another run is writing looks half-written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["recover"]

EXTRACTED = Path("normalize") / "extracted"
NORMALIZED = Path("load") / "normalized"
NEW = Path("load") / "new"
LOADED = Path("load") / "loaded"
JOB_FOLDERS = ("new_jobs", "started_jobs", "completed_jobs", "failed_jobs")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _readable(package: Path, folders: tuple[str, ...]) -> bool:
    """Whether dlt can open ``package``: a schema that parses and its job folders."""
    try:
        schema = json.loads((package / "schema.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(schema, dict) and all((package / f).is_dir() for f in folders)


def _packages(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []


def recover(working_dir: Path) -> list[str]:
    """Clean ``working_dir`` (``<pipelines dir>/<pipeline name>``); one line per action."""
    if not working_dir.is_dir():
        return []
    lines: list[str] = []
    orphans = [p for p in _packages(working_dir / "normalize") if p.name != "extracted"]
    if orphans:
        size = sum(_size(p) for p in orphans)
        for orphan in orphans:
            shutil.rmtree(orphan, ignore_errors=True)
        names = ", ".join(f"normalize/{p.name}" for p in orphans)
        lines.append(
            f"discarded the unfinished extract of a killed run ({names}, {_mb(size)}): "
            "nothing of it was loaded or bookmarked, so this run reads it again"
        )
    reset_state = False
    normalized = {p.name: p for p in _packages(working_dir / NORMALIZED)}
    loaded = {p.name for p in _packages(working_dir / LOADED)}
    for extracted in _packages(working_dir / EXTRACTED):
        load_id = extracted.name
        copy = normalized.get(load_id)
        if load_id in loaded or (copy is not None and _readable(copy, JOB_FOLDERS)):
            shutil.rmtree(extracted, ignore_errors=True)
            lines.append(
                f"recovered load package {load_id}: a run was killed after normalizing it; "
                "removed its leftover extracted copy"
                + ("" if load_id in loaded else ", the package loads now")
            )
        elif not _readable(extracted, ("new_jobs",)):
            shutil.rmtree(extracted, ignore_errors=True)
            reset_state = True
            lines.append(
                f"discarded load package {load_id}: it was half-written (extracted, unreadable) "
                "and never loaded; bookmarks restart from the destination's, so its data is read "
                "again"
            )
    for load_id, package in normalized.items():
        if not package.is_dir() or _readable(package, JOB_FOLDERS):
            continue
        shutil.rmtree(package, ignore_errors=True)
        if (working_dir / EXTRACTED / load_id).is_dir():
            lines.append(
                f"recovered load package {load_id}: its normalized copy was half-written; "
                "normalizing it again from its extracted copy"
            )
        else:
            reset_state = True
            lines.append(
                f"discarded load package {load_id}: it was half-written (normalized, unreadable); "
                "bookmarks restart from the destination's, so its data is read again"
            )
    for package in _packages(working_dir / NEW):
        if not (working_dir / EXTRACTED / package.name).is_dir():
            shutil.rmtree(package, ignore_errors=True)  # nothing can finish it: no extracted copy
            lines.append(
                f"discarded load package {package.name}: a normalize left it unfinished and its "
                "extracted copy is gone; bookmarks restart from the destination's"
            )
            reset_state = True
    if reset_state:
        # dlt restores the state of the last load the destination committed when there is none
        (working_dir / "state.json").unlink(missing_ok=True)
    return lines
