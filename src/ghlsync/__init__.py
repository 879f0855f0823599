"""ghlsync: move data in and out of HighLevel (GoHighLevel / LeadConnector)."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
