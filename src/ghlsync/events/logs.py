"""Structured logs for ``ghlsync serve``: one JSON object per line, every message redacted."""

from __future__ import annotations

import json
import logging
import sys
import time

from ghlsync.errors import redact


class JSONFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg"}`` (+ ``exc`` type), secrets scrubbed by ``redact``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = record.exc_info[0].__name__
        return json.dumps(entry)


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``ghlsync.*`` logs to stderr as JSON lines (what ``ghlsync serve`` runs with)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("ghlsync")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
