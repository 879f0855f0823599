"""``from ghlsync.source import highlevel_source``: the HighLevel dlt source (see ``ghlsync.extract``)."""

from __future__ import annotations

from ghlsync.extract.source import highlevel_source

__all__ = ["highlevel_source"]
