"""Emulator settings and the parsers for the CLI's ``--rate-limit`` and ``--faults`` strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: HighLevel's search lags writes by "a few seconds" (GHL-NOTES §4; the figure is unconfirmed)
SEARCH_INDEX_DELAY_MS = 2000


@dataclass(frozen=True)
class RateLimit:
    """``max_requests`` per ``window_ms`` (a sliding window) per app per location."""

    max_requests: int = 100
    window_ms: int = 10_000


@dataclass(frozen=True)
class Fault:
    """One fault kind and the probability it hits a request.

    ``kind`` is ``429``, ``500`` (any 5xx status), ``timeout`` (hang ``delay_s``, default
    ``EmulatorSettings.timeout_fault_seconds``, then 504), ``reset`` (drop the connection
    mid-response) or ``slow`` (answer normally after ``delay_s``).
    """

    kind: str
    probability: float
    delay_s: float | None = None


@dataclass
class EmulatorSettings:
    """How an emulator behaves. Everything here can also be changed at runtime via ``/_emulator``."""

    seed: int = 0
    rate_limit: RateLimit | None = field(default_factory=RateLimit)
    daily_limit: int | None = 200_000
    faults: list[Fault] = field(default_factory=list)
    #: a ``timeout`` fault hangs this long (bounded) so a client's read timeout fires first
    timeout_fault_seconds: float = 30.0
    access_token_ttl: int = 86_399
    #: optional token required on ``/_emulator/*`` as ``X-Emulator-Admin``; None = open
    #: (required when the emulator listens beyond loopback: see ``server.check_exposure``)
    admin_token: str | None = field(default=None, repr=False)
    webhook_url: str | None = None
    #: multiplies the waits between webhook retries (HighLevel: ~10 minutes after a 429;
    #: GHL-NOTES §8); 0.001 makes them 0.6 s for tests
    webhook_time_scale: float = 1.0
    #: writes show up in ``POST /contacts/search`` only this long after they happen (HighLevel
    #: indexes "within a few seconds": GHL-NOTES §4); 0 = at once. The exact delay is
    #: unconfirmed: 2 s by default
    search_index_delay_ms: int = SEARCH_INDEX_DELAY_MS
    #: ``POST /opportunities/search`` (the filter search) answers 401 "not yet supported by the
    #: IAM Service" as HighLevel does (GHL-NOTES §5, hl-docs#74); True serves it per the spec
    opportunity_filter_search: bool = False
    #: send ``Retry-After`` (seconds until the window frees a slot) on rate-limit 429s
    retry_after: bool = True
    #: bodies past this many bytes are refused with 413 before they are read (HighLevel's own
    #: limit is unpublished; 1 MiB holds any body its specs describe)
    max_body_bytes: int = 1024 * 1024


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def parse_rate_limit(text: str | None) -> RateLimit | None:
    """``"100/10s"`` -> ``RateLimit(100, 10000)``; ``"off"``/``""``/None -> None."""
    if text is None or text.strip().lower() in ("", "off", "none", "0"):
        return None
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"rate limit must look like 100/10s or off, not {text!r}")
    count, amount, unit = int(match[1]), float(match[2]), match[3] or "s"
    factor = {"ms": 1, "s": 1000, "m": 60_000}[unit]
    window_ms = int(amount * factor)
    if count <= 0 or window_ms <= 0:
        raise ValueError(f"rate limit must be positive: {text!r}")
    return RateLimit(count, window_ms)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")

FAULT_KINDS = ("429", "500", "502", "503", "504", "timeout", "reset", "slow")


def parse_faults(text: str | None) -> list[Fault]:
    """``"429:0.05,500:0.02,timeout:0.01,reset:0.01,slow:0.05@2s"`` -> faults."""
    faults: list[Fault] = []
    if not text or text.strip().lower() in ("off", "none"):
        return faults
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kind, _, rest = part.partition(":")
        kind = kind.strip().lower()
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        probability_text, _, delay_text = rest.partition("@")
        try:
            probability = float(probability_text)
        except ValueError:
            raise ValueError(f"fault {part!r}: probability must be a number") from None
        if not 0 <= probability <= 1:
            raise ValueError(f"fault {part!r}: probability must be within 0..1")
        delay: float | None = None
        if delay_text:
            match = _DURATION.match(delay_text.strip())
            if not match:
                raise ValueError(f"fault {part!r}: delay must look like 2s or 500ms")
            delay = float(match[1]) / (1000 if match[2] == "ms" else 1)
        faults.append(Fault(kind, probability, delay))
    if sum(fault.probability for fault in faults) > 1:
        raise ValueError("fault probabilities add up to more than 1")
    return faults


def format_faults(faults: list[Fault]) -> str:
    parts = []
    for fault in faults:
        text = f"{fault.kind}:{fault.probability:g}"
        if fault.delay_s is not None:
            text += f"@{fault.delay_s:g}s"
        parts.append(text)
    return ",".join(parts)
