"""The extract's run-level errors, importable without dlt (the CLI checks input before dlt loads).

``ConfigError`` (``ghlsync.errors``): bad input, nothing ran. ``DestinationError``: dlt's sync,
normalize or load step failed. ``ExtractFailed``: reading failed as a whole. A failing location
is none of these: the run's ``Report`` records it. ``PipelineLocked``: another run holds
the pipeline, so this one did not start.
"""

from __future__ import annotations

from ghlsync.errors import GHLSyncError


class DestinationError(GHLSyncError):
    """The destination refused or could not be reached (dlt's step failed)."""


class ExtractFailed(GHLSyncError):
    """Reading failed as a whole (not one location, which the report records): nothing loaded."""


class PipelineLocked(GHLSyncError):
    """Another run holds the pipeline's lock (``ghlsync.extract.lock``); nothing ran."""
