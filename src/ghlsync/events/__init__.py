"""ghlsync.events: ``ghlsync serve``, a Segment-compatible collector that upserts contacts into
HighLevel through a durable queue, and takes HighLevel's signed webhooks in.

    from ghlsync.events import EventService, EventsConfig
    service = EventService(EventsConfig.single("LOC1", "write-key"), Settings.from_env())

Layering: uses ``client`` and ``mapping``; never imports ``extract`` or ``push``.
"""

from __future__ import annotations

from ghlsync.events.config import EventMapping, EventsConfig, Source, hash_key, load_config
from ghlsync.events.service import EventService, serve

__all__ = [
    "EventMapping",
    "EventService",
    "EventsConfig",
    "Source",
    "hash_key",
    "load_config",
    "serve",
]
